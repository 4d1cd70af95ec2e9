"""Everything compiling articles produces, written as JSON, and the time compiling takes.

    python bench/generate_help_center.py /tmp/hc-1k --articles 1000
    python bench/compile_output.py --dump before.json /tmp/hc-1k articles tests/data/help_center
    (change kb.content) python bench/compile_output.py --dump after.json /tmp/hc-1k articles ...
    cmp before.json after.json
    python bench/compile_output.py --time 3 /tmp/hc-1k

`--dump` writes, for each folder, every compiled article (rendered HTML, headings, sections, links
and images not found, template tags left out, chunks, related slugs, media) and every problem: a
change that makes compiling cheaper must leave this file byte for byte the same.
`--time N` runs `compile_help_center` on each folder N times (no cache, no model) and prints the
median wall time and the milliseconds per article.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path
from typing import Any

from kb.config import Settings
from kb.content.compiler import CompiledHelpCenter, compile_help_center


def as_json(compiled: CompiledHelpCenter) -> dict[str, Any]:
    """The compiled help center as plain data: dataclasses as dicts, dates and enums as text."""
    return json.loads(json.dumps(dataclasses.asdict(compiled), default=str))


def dump(folders: list[Path], output: Path, settings: Settings) -> None:
    data = {str(folder): as_json(compile_help_center(folder, settings)) for folder in folders}
    output.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    articles = sum(len(folder["articles"]) for folder in data.values())
    print(f"{articles} articles from {len(folders)} folder(s) written to {output}")


def time_compiling(folders: list[Path], runs: int, settings: Settings) -> None:
    for folder in folders:
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            compiled = compile_help_center(folder, settings)
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        count = len(compiled.articles)
        runs_text = ", ".join(f"{value:.2f}" for value in seconds)
        per_article = median / count * 1000
        print(f"{folder}: {count} articles, median {median:.2f} s of {runs_text}: {per_article:.2f} ms/article")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--dump", type=Path, help="write the compiled output of every folder to this JSON file")
    parser.add_argument("--time", type=int, default=0, metavar="N", help="time N compiles of each folder")
    arguments = parser.parse_args()
    settings = Settings.from_env({})
    if arguments.dump:
        dump(arguments.folders, arguments.dump, settings)
    if arguments.time:
        time_compiling(arguments.folders, arguments.time, settings)


if __name__ == "__main__":
    main()
