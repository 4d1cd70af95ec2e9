"""The whole build's counted terms and their postings, kept between builds and patched where articles changed.

Joining ten thousand articles' term blocks and sorting millions of stem entries costs more than the
rest of a one-article rebuild's BM25 together; patching the last build's arrays instead costs a few
passes over them: the unchanged articles' entries keep their order (their chunks are only
renumbered, in the same order), and the changed articles' few entries are merged in.
"""

from __future__ import annotations

import numpy as np

from kb.index.lexical import Postings, TermBlock


class JoinedTerms:
    """The term blocks of the last build's articles, in order, joined, and their postings."""

    def __init__(self) -> None:
        self.blocks: list[TermBlock] = []  # held, so that no later block can share an id with one of them
        self.terms = TermBlock.join([])
        self.postings = self.terms.postings()

    def update(self, blocks: list[TermBlock]) -> tuple[TermBlock, Postings]:
        """The join of `blocks` and its postings, exactly as `TermBlock.join(blocks).postings()` gives them.

        Blocks of the last build (the same objects) keep their entries; only the others are sorted.
        The joined block's stem entries are in postings order, not chunk after chunk.
        """
        kept = self.kept_positions(blocks)
        if kept is None:
            self.terms = TermBlock.join(blocks)
            self.postings = self.terms.postings()
        else:
            self.terms, self.postings = self.patched(blocks, kept)
        self.blocks = list(blocks)
        return self.terms, self.postings

    def kept_positions(self, blocks: list[TermBlock]) -> np.ndarray | None:
        """The last build's position of each block (-1 for a new one); None when a full join is due:
        no block was kept, or the kept ones changed order."""
        last = {id(block): position for position, block in enumerate(self.blocks)}
        kept = np.array([last.get(id(block), -1) for block in blocks], dtype=np.int64)
        order = kept[kept >= 0]
        if not len(order) or (len(order) > 1 and bool((np.diff(order) <= 0).any())):
            return None
        return kept

    def patched(self, blocks: list[TermBlock], kept: np.ndarray) -> tuple[TermBlock, Postings]:
        """The last build's arrays with the dropped blocks' chunks taken out, the rest renumbered and
        the new blocks' entries merged in by (stem, chunk)."""
        old_counts = np.array([block.chunk_count for block in self.blocks], dtype=np.int64)
        new_counts = np.array([block.chunk_count for block in blocks], dtype=np.int64)
        old_starts = np.cumsum(old_counts) - old_counts
        new_starts = np.cumsum(new_counts) - new_counts
        shift = np.full(len(self.blocks), -1, dtype=np.int64)  # new start - old start; -1 marks a dropped block
        survives = np.zeros(len(self.blocks), dtype=bool)
        shift[kept[kept >= 0]] = new_starts[kept >= 0] - old_starts[kept[kept >= 0]]
        survives[kept[kept >= 0]] = True
        old_chunks = self.terms.chunk_count
        renumbered = np.where(
            np.repeat(survives, old_counts), np.arange(old_chunks, dtype=np.int64) + np.repeat(shift, old_counts), -1
        )
        fresh = [position for position in range(len(blocks)) if kept[position] < 0]
        added = TermBlock.join([blocks[position] for position in fresh])
        added_chunks = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [new_starts[position] + np.arange(new_counts[position], dtype=np.int64) for position in fresh]
        )  # the new chunk number of each of `added`'s chunks

        postings = self.postings
        chunks = renumbered[postings.chunks]
        stays = chunks >= 0
        stems, counts, chunks = postings.stems[stays], postings.counts[stays], chunks[stays]
        new = added.postings()
        new_chunks = added_chunks[new.chunks]
        at = np.searchsorted(merge_keys(stems, chunks), merge_keys(new.stems, new_chunks))
        stems, counts = np.insert(stems, at, new.stems), np.insert(counts, at, new.counts)
        chunks = np.insert(chunks, at, new_chunks)

        lengths = np.empty(int(new_counts.sum()), dtype=np.int64)
        lengths[renumbered[renumbered >= 0]] = self.terms.lengths[renumbered >= 0]
        lengths[added_chunks] = added.lengths
        surface_chunk = renumbered[self.terms.surface_chunk]
        surface_stays = surface_chunk >= 0
        terms = TermBlock(
            stems,
            counts,
            chunks,
            lengths,
            np.concatenate([self.terms.surface[surface_stays], added.surface]),
            np.concatenate([surface_chunk[surface_stays], added_chunks[added.surface_chunk]]),
        )
        return terms, Postings(stems, chunks, counts)


def merge_keys(stems: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """One sortable number per stem entry: by stem, then by chunk."""
    return (stems.astype(np.int64) << 32) | chunks
