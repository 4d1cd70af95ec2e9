"""kb.index.vectors: rows by id, whether the ids are a build's 0..n-1 or any others."""

from __future__ import annotations

import numpy as np
import pytest

from kb.index.vectors import rows_of

MATRIX = np.arange(12, dtype=np.float32).reshape(4, 3)


def test_rows_of_a_builds_ids_are_the_rows_themselves() -> None:
    stored = np.arange(4)
    assert rows_of(stored, MATRIX, np.array([3, 0, 3])).tolist() == [[9, 10, 11], [0, 1, 2], [9, 10, 11]]
    for missing in (4, -1):
        with pytest.raises(KeyError, match=str(missing)):
            rows_of(stored, MATRIX, np.array([1, missing]))


def test_rows_of_other_ids_are_found_by_search() -> None:
    stored = np.array([2, 5, 9, 40])  # ids left after removals
    assert rows_of(stored, MATRIX, np.array([40, 2])).tolist() == [[9, 10, 11], [0, 1, 2]]
    for missing in (3, 41, 0):
        with pytest.raises(KeyError, match=str(missing)):
            rows_of(stored, MATRIX, np.array([5, missing]))
