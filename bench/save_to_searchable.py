"""Save-to-searchable time: how long after a writer saves one article the site's search finds the change.

Generates a 1,000-article help center from the shipped sample articles, starts `kb serve --watch`
on a local port, then edits one article at a time and polls the site's JSON API until the edit is
searchable. The first run embeds the generated help center once (minutes on 2 cores); later runs
reuse its index from --workdir.

Usage:
  python bench/save_to_searchable.py [--articles 1000] [--trials 10] [--output docs/PERFORMANCE.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from bench.report_sections import replace_section  # noqa: E402
from kb.content.loading import load_articles  # noqa: E402

KB = [sys.executable, "-m", "kb_cli.main"]


def generate(target: Path, count: int) -> None:
    """`count` distinct articles: sample bodies cut to their first two sections, each with its own title."""
    samples = [article for article in load_articles(REPOSITORY / "articles").articles if article.is_public]
    target.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        base = samples[number % len(samples)]
        sections = base.body.split("\n## ")
        body = "\n## ".join(sections[:3]).strip()
        variant = number // len(samples)
        folder = target / base.category
        folder.mkdir(exist_ok=True)
        text = (
            f"---\ntitle: {json.dumps(f'{base.title} (team {variant})')}\n"
            f"summary: {json.dumps(base.summary)}\nupdated: 2026-11-01\n---\n"
            f"This guide is for team {variant} of the workspace.\n\n{body}\n"
        )
        file = folder / f"{base.slug}-{variant}.md"
        if not file.exists() or file.read_text(encoding="utf-8") != text:
            file.write_text(text, encoding="utf-8")


def is_public(file: Path) -> bool:
    """Whether a customer's search can find the article: neither a draft nor internal, nor a category file."""
    head = file.read_text(encoding="utf-8").split("\n---", 1)[0]
    return not file.name.startswith("_") and "draft: true" not in head and "visibility: internal" not in head


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def search(port: int, query: str) -> dict:  # type: ignore[type-arg]
    url = f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode({"q": query, "k": 3})
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def wait_until(predicate, timeout: float, step: float = 0.02) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if predicate():
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(step)
    raise TimeoutError("timed out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache" / "save-to-searchable")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "PERFORMANCE.md")
    parser.add_argument(
        "--existing",
        type=Path,
        nargs=2,
        metavar=("ARTICLES", "INDEX"),
        help="an existing help center and its built index (from bench/generate_help_center.py): edited in place",
    )
    arguments = parser.parse_args()
    articles, index = arguments.workdir / "articles", arguments.workdir / "index"
    if arguments.existing:
        articles, index = (path.resolve() for path in arguments.existing)
    else:
        generate(articles, arguments.articles)
    arguments.workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = dict(os.environ, KB_ARTICLES=str(articles), KB_INDEX=str(index), KB_PORT=str(port))
    log = (arguments.workdir / "serve.log").open("w")
    server = subprocess.Popen(
        [*KB, "serve", "--watch"], env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=REPOSITORY
    )
    try:
        wait_until(lambda: search(port, "password") is not None, timeout=1800, step=0.5)
        serve_log = arguments.workdir / "serve.log"  # the watcher's first build compiles every article: wait for it
        wait_until(lambda: "[kb] initial build" in serve_log.read_text(errors="replace"), timeout=1800, step=0.5)
        files = [file for file in sorted(articles.rglob("*.md")) if is_public(file)]
        chosen = random.Random(7).sample(files, arguments.trials)
        timings = []
        run = random.SystemRandom().randrange(10**5, 10**6)  # --existing edits in place: a word no earlier run added
        for trial, file in enumerate(chosen):
            token = f"kbtrial{trial}x{run}"
            slug = file.stem
            text = file.read_text(encoding="utf-8")
            edited = text.replace("\n## ", f"\nAsk about the {token} setting.\n\n## ", 1)
            time.sleep(1.0)  # let the previous rebuild settle, as between a writer's saves
            file.write_text(edited, encoding="utf-8")
            saved = time.perf_counter()

            def found(slug: str = slug, token: str = token) -> bool:
                results = search(port, token)["results"]
                return bool(results) and results[0]["slug"] == slug and token in results[0]["snippet"]

            wait_until(found, timeout=60)
            timings.append(time.perf_counter() - saved)
            print(f"trial {trial}: {file.relative_to(articles)} searchable after {timings[-1]:.2f} s", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    manifest = json.loads((index / "current" / "manifest.json").read_text())
    rebuilds = [
        line
        for line in (arguments.workdir / "serve.log").read_text().splitlines()
        if line.startswith("[kb] 1 file(s) changed")
    ]
    publish_times = [float(line.rsplit("published in ", 1)[1].split()[0]) for line in rebuilds]
    command = f"python bench/save_to_searchable.py --articles {arguments.articles} --trials {arguments.trials}"
    if arguments.existing:
        command = f"python bench/save_to_searchable.py --existing {articles} {index} --trials {arguments.trials}"
    p90 = sorted(timings)[int(0.9 * (len(timings) - 1))]
    publish_median = statistics.median(publish_times) if publish_times else float("nan")
    origin = (
        "made by bench/generate_help_center.py"
        if arguments.existing
        else "the shipped sample articles, each cut to its first sections and given its own title"
    )
    title = "Save to searchable" + (f", {manifest['article_count']:,} articles" if arguments.existing else "")
    report = f"""Generated by `{command}` on {datetime.date.today().isoformat()}, on {platform.machine()} with
{platform.python_implementation()} {platform.python_version()}, 2 CPU cores, no GPU, the bundled
all-MiniLM-L6-v2 model.

A help center of {manifest["article_count"]} articles, {manifest["chunk_count"]} chunks ({origin})
is served by `kb serve --watch`.
Each trial appends one sentence with a new word to one article, saves it, and polls
`/api/search` every 20 ms until that article is the first result and its snippet shows the new
word. The time runs from the save to that answer: file-system notice, incremental rebuild
(re-embedding only the changed sections), atomic publish, and the server's switch to the new build.

| trials | median | p90 | max | rebuild and publish alone (median) |
|---|---|---|---|---|
| {len(timings)} | {statistics.median(timings):.2f} s | {p90:.2f} s | {max(timings):.2f} s | {publish_median:.2f} s |
"""
    replace_section(arguments.output, title, report)  # other benches' sections are kept
    print(report, file=sys.stderr)


if __name__ == "__main__":
    main()
