"""A bench's section of a shared report replaces only itself; the other benches' sections are kept in order."""

from __future__ import annotations

from pathlib import Path

from bench.report_sections import replace_section

REPORT = """# Performance

## Save to searchable

Median 0.56 s.

## The search log's cost to a search

p50 +0.69 ms.
"""


def test_a_new_section_goes_at_the_end_and_the_others_are_kept(tmp_path: Path) -> None:
    report = tmp_path / "PERFORMANCE.md"
    report.write_text(REPORT, encoding="utf-8")
    replace_section(report, "Search under load", "| run | req/s |\n|---|---|\n| distinct | 150 |\n")
    assert (
        report.read_text(encoding="utf-8")
        == REPORT + "\n## Search under load\n\n| run | req/s |\n|---|---|\n| distinct | 150 |\n"
    )


def test_a_section_written_again_replaces_itself_in_place(tmp_path: Path) -> None:
    report = tmp_path / "PERFORMANCE.md"
    report.write_text(REPORT, encoding="utf-8")
    replace_section(report, "Save to searchable", "Median 0.40 s.")
    assert report.read_text(encoding="utf-8") == REPORT.replace("Median 0.56 s.", "Median 0.40 s.")


def test_a_missing_report_is_started_with_its_heading(tmp_path: Path) -> None:
    report = tmp_path / "docs" / "PERFORMANCE.md"
    replace_section(report, "Index build throughput", "12 chunks/s")
    assert report.read_text(encoding="utf-8") == "# Performance\n\n## Index build throughput\n\n12 chunks/s\n"
