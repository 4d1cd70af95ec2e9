"""Patching the last build's joined terms gives what joining and sorting every article's terms gives."""

from __future__ import annotations

import numpy as np

from indexer.joined_terms import JoinedTerms
from kb.index.lexical import Postings, TermBlock, TermTable, analyse

ARTICLES = [
    ["Reset your password from the sign-in page.", "The reset email arrives within minutes."],
    ["Invoices list every charge.", "Download an invoice as PDF.", "Invoices and charges, again invoices."],
    ["Export invoices to CSV each quarter."],
    ["Password rules: twelve characters.", "Reset links expire after one hour."],
    [],  # an article without chunks
    ["Schedule the export of every invoice."],
]


def block(table: TermTable, texts: list[str]) -> TermBlock:
    return TermBlock.of([table.terms(item) for item in analyse(texts)])


def assert_joined_as_from_scratch(joined: JoinedTerms, blocks: list[TermBlock]) -> None:
    terms, postings = joined.update(blocks)
    expected_terms = TermBlock.join(blocks)
    expected = expected_terms.postings()
    for name in Postings.__dataclass_fields__:
        assert getattr(postings, name).tolist() == getattr(expected, name).tolist(), name
        assert getattr(postings, name).dtype == getattr(expected, name).dtype, name
    assert terms.lengths.tolist() == expected_terms.lengths.tolist()
    assert terms.chunk_count == expected_terms.chunk_count
    surface = sorted(zip(terms.surface.tolist(), terms.surface_chunk.tolist(), strict=True))
    assert surface == sorted(zip(expected_terms.surface.tolist(), expected_terms.surface_chunk.tolist(), strict=True))
    assert terms.postings().chunks.tolist() == expected.chunks.tolist()  # its entries sort as the join's


def test_edits_additions_removals_and_reordering_give_the_fresh_join() -> None:
    table = TermTable()
    blocks = [block(table, texts) for texts in ARTICLES]
    joined = JoinedTerms()
    assert_joined_as_from_scratch(joined, blocks)
    blocks[1] = block(table, ["Invoices list every charge, and a brand new zanzibar term.", "Short."])
    assert_joined_as_from_scratch(joined, blocks)  # an edit that drops a chunk: later chunks renumbered
    blocks.insert(2, block(table, ["A new article about password exports.", "With two chunks."]))
    del blocks[4]
    assert_joined_as_from_scratch(joined, blocks)  # one added, one deleted
    blocks.append(block(table, ["Appended at the end: reset and invoice."]))
    assert_joined_as_from_scratch(joined, blocks)  # only an addition
    del blocks[0]
    assert_joined_as_from_scratch(joined, blocks)  # only a removal
    assert_joined_as_from_scratch(joined, list(reversed(blocks)))  # order changed: joined afresh
    assert_joined_as_from_scratch(joined, [])


def test_a_patch_keeps_the_unchanged_articles_entries() -> None:
    table = TermTable()
    blocks = [block(table, texts) for texts in ARTICLES]
    joined = JoinedTerms()
    joined.update(blocks)
    edited = [blocks[0], block(table, ["Invoices only."]), *blocks[2:]]
    assert joined.kept_positions(edited) is not None
    assert joined.kept_positions(list(reversed(blocks))) is None
    assert joined.kept_positions([block(table, texts) for texts in ARTICLES]) is None  # nothing kept
    assert np.array_equal(joined.kept_positions(edited), [0, -1, 2, 3, 4, 5])  # type: ignore[arg-type]
