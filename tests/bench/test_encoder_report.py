"""bench/encoder.py replaces its own section of docs/PERFORMANCE.md and keeps the other benches' sections."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "encoder.py"
spec = importlib.util.spec_from_file_location("encoder_bench", BENCH)
assert spec is not None and spec.loader is not None
encoder_bench = importlib.util.module_from_spec(spec)
sys.modules["encoder_bench"] = encoder_bench
spec.loader.exec_module(encoder_bench)

DOCUMENT = "# Performance\n\n## Save to searchable\n\nfast\n\n## Encoder\n\nold figures\n\n## The search log\n\ncheap\n"


def test_its_section_is_replaced_in_place_and_the_others_kept() -> None:
    updated = encoder_bench.replace_section(DOCUMENT, "## Encoder", "## Encoder\n\nnew figures\n")
    assert updated == DOCUMENT.replace("old figures", "new figures")


def test_its_section_is_appended_when_absent() -> None:
    document = "# Performance\n\n## Save to searchable\n\nfast\n"
    updated = encoder_bench.replace_section(document, "## Encoder", "## Encoder\n\nnew figures\n")
    assert updated == "# Performance\n\n## Save to searchable\n\nfast\n\n## Encoder\n\nnew figures\n"


def test_a_heading_that_only_starts_alike_is_not_its_section() -> None:
    document = "# Performance\n\n## Encoder threads\n\nother\n"
    updated = encoder_bench.replace_section(document, "## Encoder", "## Encoder\n\nnew\n")
    assert updated == "# Performance\n\n## Encoder threads\n\nother\n\n## Encoder\n\nnew\n"
