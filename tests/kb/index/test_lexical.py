"""BM25 assembled from counted terms scores exactly as bm25s's own index of the same chunks."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from kb.index.lexical import NO_STEM, LexicalIndex, analyse

TEXTS = [
    "Reset your password from the sign-in page; the reset email arrives within minutes.",
    "Invoices list every charge. Download an invoice as PDF from Billing > Invoices.",
    "The reset link expires after one hour: request a new reset email if it expired.",
    "Export invoices to CSV each quarter, or schedule the export.",
    "",  # no content word at all
    "Password password password: repeated words count as term frequency.",
]


def test_assembled_bm25_scores_equal_bm25s_for_every_stem_and_query() -> None:
    analysed = analyse(TEXTS)
    ours = LexicalIndex.build(analysed, [10, 11, 12, 13, 14, 15])
    theirs = bm25s.BM25()
    theirs.index([stems for stems, _ in analysed], show_progress=False)
    assert ours.retriever is not None
    assert set(ours.retriever.vocab_dict) == set(theirs.vocab_dict)
    for stem in theirs.vocab_dict:
        if not stem:
            continue
        token = theirs.vocab_dict[stem]
        start, end = theirs.scores["indptr"][token], theirs.scores["indptr"][token + 1]
        documents, scores = ours.documents(stem)
        assert documents.tolist() == theirs.scores["indices"][start:end].tolist()
        assert scores.tobytes() == theirs.scores["data"][start:end].tobytes()  # the same float32 bits
    for query in (["password"], ["reset", "email"], ["invoic", "export", "csv"]):
        assert ours.retriever.get_scores(query).tobytes() == theirs.get_scores(query).tobytes()
    assert ours.postings("password")[0].tolist() == [10, 15]
    assert ours.vocabulary["password"] == 2
    assert ours.vocabulary["invoices"] == 2


def test_an_index_of_some_chunks_names_only_their_stems_and_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    analysed = analyse(TEXTS[:2])
    public = LexicalIndex.build(analysed[:1], [0])
    public.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert "invoic" not in loaded.retriever.vocab_dict
    assert "invoices" not in loaded.vocabulary
    assert loaded.matches(["reset"])[0].tolist() == [0]
    assert np.array_equal(loaded.scores(["reset"], 1), public.scores(["reset"], 1))


@pytest.mark.parametrize("sort_below", [0, 10**9], ids=["scanning every chunk", "sorting the postings"])
def test_matches_are_every_chunk_with_a_score_either_way_they_are_merged(
    sort_below: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kb.index.lexical.SORT_INSTEAD_OF_SCAN", sort_below)
    index = LexicalIndex.build(analyse(TEXTS), [10, 11, 12, 13, 14, 15])
    for query in (["reset", "email"], ["invoic", "export", "csv"], ["password", "reset", "nowher"]):
        chunk_ids, scores = index.matches(query)
        everything = index.scores(query, 16)
        assert chunk_ids.tolist() == np.flatnonzero(everything).tolist()
        assert scores.tobytes() == everything[chunk_ids].tobytes()


@pytest.mark.parametrize("groups", [[0, 0, 1, 1, 2, 2], [2, 0, 1, 0, 2, 1]], ids=["consecutive", "interleaved"])
def test_stems_in_groups_are_those_in_enough_groups_by_their_text(groups: list[int]) -> None:
    analysed = analyse(TEXTS)
    index = LexicalIndex.build(analysed, [0, 1, 2, 3, 4, 5])
    by_group: dict[int, set[str]] = {}
    for group, (stems, _) in zip(groups, analysed, strict=True):
        by_group.setdefault(group, set()).update(stem for stem in stems if stem != NO_STEM)
    chunk_group = np.array(groups, dtype=np.int64)
    for share in (0.3, 0.6, 1.0):
        expected = {
            stem
            for stem in set().union(*by_group.values())
            if sum(stem in held for held in by_group.values()) >= share * 3
        }
        assert index.stems_in_groups(chunk_group, 3, share) == expected, share
    assert index.stems_in_groups(np.array([0, 1, 0, 1, 2, 2]), 3, 0.6) == {"password"}  # texts 0 and 5
