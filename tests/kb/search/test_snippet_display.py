"""How results read: "…" where a snippet starts mid-sentence, no marks on words that carry no meaning."""

from __future__ import annotations

import gc
from pathlib import Path

from indexer.build import build_index
from kb.config import Settings
from kb.index.format import load_published_index
from kb.search.service import SearchService, continues_sentence
from kb.search.snippets import best_passage, shown_query, split_sentences
from tests.conftest import FakeEmbedder

LONG_SECTION = (
    "Open the billing page first. Then pick the invoice you want to change and press the orange edit "
    "button at the top right of the invoice screen beside the quebec menu. Save it."
)


def service_for(tmp_path: Path, articles: dict[str, str], embedder: FakeEmbedder, **settings: int) -> SearchService:
    folder = tmp_path / "articles"
    folder.mkdir()
    for slug, text in articles.items():
        (folder / f"{slug}.md").write_text(text)
    built = Settings(articles=folder, index=tmp_path / "index", data=tmp_path / "data", **settings)
    build_index(built, embedder, show_progress=False)
    return SearchService(load_published_index(built.index), embedder, built)


def test_a_piece_continues_a_sentence_unless_the_word_before_it_ends_one() -> None:
    assert continues_sentence("one two three four", "three four five") is True
    assert continues_sentence("one two. three four", "three four five") is False
    assert continues_sentence("one two three.", "four five") is False
    assert continues_sentence("one two three", "four five") is True


def test_a_snippet_that_starts_mid_sentence_starts_with_an_ellipsis(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    article = f"---\ntitle: Edit invoices\n---\n## Edit\n\n{LONG_SECTION}\n"
    service = service_for(tmp_path, {"edit": article}, fake_embedder, chunk_words=16, chunk_overlap_words=4)
    pieces = [chunk.text for chunk in service.index.chunks]
    assert pieces[2] == "the invoice screen beside the quebec menu. Save it."  # begins mid-sentence
    [result] = service.search("quebec menu", k=1).results
    assert result.snippet == "… the invoice screen beside the quebec menu. Save it."
    [first] = service.search("billing page", k=1).results
    assert first.snippet.startswith("Open the billing page first.")


def test_the_products_own_name_and_stop_words_are_not_highlighted(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    articles = {
        f"topic-{number}": f"---\ntitle: Topic {number}\n---\nIn Zorbly, topic {number} works like this.\n"
        for number in range(9)
    }
    articles["refunds"] = "---\ntitle: Refunds\n---\nZorbly refunds your last payment if you ask how.\n"
    service = service_for(tmp_path, articles, fake_embedder)
    assert "zorbl" in service.plain_stems()  # in all 10 articles: the product's name
    assert "refund" not in service.plain_stems()
    [result] = service.search("how do I get a Zorbly refund", k=1).results
    assert result.slug == "refunds"
    assert str(result.snippet_html) == "Zorbly <mark>refunds</mark> your last payment if you ask how."


def test_no_word_counts_as_common_in_a_small_help_center(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    articles = {f"topic-{number}": f"---\ntitle: Topic {number}\n---\nZorbly topic {number}.\n" for number in range(3)}
    service = service_for(tmp_path, articles, fake_embedder)
    assert service.plain_stems() == frozenset()
    assert "<mark>Zorbly</mark>" in str(service.search("zorbly", k=1).results[0].snippet_html)


def test_a_long_query_is_quoted_cut_at_a_word() -> None:
    assert shown_query("reset password") == "reset password"
    long_query = "Hello, I have been trying to send my invoice to a client for three days and it never arrives"
    assert shown_query(long_query) == "Hello, I have been trying to send my invoice to a client …"


def test_a_snippet_finds_a_query_word_written_with_an_apostrophe() -> None:
    """The query's "can't" is stemmed as search stems it ("cant"), and so is the passage's."""
    passage = split_sentences("Open Settings first. Then choose Billing. If you can't log in, reset it.")
    assert [sorted(stems) for _, stems in passage] == [
        ["first", "open", "set"],
        ["bill", "choos", "then"],
        ["cant", "if", "in", "it", "log", "reset", "you"],
    ]
    assert best_passage(passage, {"cant", "log"}, limit=40) == "If you can't log in, reset it."


def test_a_passages_sentences_leave_the_garbage_collector_nothing_to_walk() -> None:
    """A server caches the sentences of tens of thousands of passages; every full collection walked them."""
    passage = split_sentences("Open Settings first. Then choose Billing. Open it again.")
    for _ in range(3):  # each collection stops tracking the tuples whose items it already stopped tracking
        gc.collect()
    assert not gc.is_tracked(passage)
    assert not any(gc.is_tracked(sentence) or gc.is_tracked(stems) for sentence, stems in passage)
    assert passage[2] == ("Open it again.", ("open", "it", "again"))
