"""BM25 assembled from counted terms scores exactly as bm25s's own index of the same chunks."""

from __future__ import annotations

import bm25s
import numpy as np

from kb.index.lexical import LexicalIndex, analyse

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
