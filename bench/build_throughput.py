"""Index build throughput against the model alone, and the time of a one-article update.

    python bench/generate_help_center.py /tmp/hc-1k --articles 1000
    python bench/build_throughput.py /tmp/hc-1k [--updates 3] [--workdir bench/.cache/build-throughput]

1. `kb index` from scratch (a fresh index folder, so nothing is reused): wall time from process start
   to exit, in sections (chunks) per second.
2. `SentenceTransformer.encode` of exactly the texts that build embedded (each chunk's embedding
   text, read back from the build, identical texts once, as the build sends them), in this process
   with the model already loaded, at the build's batch size: the model's own throughput.
   The ratio of the two is the build's overhead (compiling Markdown, BM25, FAISS, writing, the
   process's start and model load).
3. `--updates` times: one sentence appended to one article, then `kb index`: the incremental update
   (only that article's changed sections are embedded), as a writer's save costs it.

Writes the "## Index build throughput" section of docs/PERFORMANCE.md (other sections are kept).
Both sides use every core the machine has (torch's default), one after the other.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from bench.report_sections import machine_line, replace_section  # noqa: E402
from indexer.build import chunk_from_record  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.index.format import current_build, load_published_index  # noqa: E402

KB = [sys.executable, "-m", "kb_cli.main"]
SECTION = "Index build throughput"


def run_index(articles: Path, index: Path) -> float:
    """Seconds `kb index` takes, from process start to exit (model load included).

    Raises:
        SystemExit: `kb index` failed (its output is shown).
    """
    environment = dict(os.environ, KB_ARTICLES=str(articles), KB_INDEX=str(index))
    started = time.perf_counter()
    done = subprocess.run([*KB, "index"], env=environment, cwd=REPOSITORY, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"kb index failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def embedded_texts(index: Path) -> list[str]:
    """The texts the build sent to the model: each chunk's embedding text, identical ones once."""
    published = load_published_index(index)
    texts: dict[str, str] = {}
    for record in published.chunks:
        chunk = chunk_from_record(record)
        texts.setdefault(chunk.text_hash, chunk.embedding_text)
    return list(texts.values())


def model_seconds(texts: list[str]) -> float:
    """Seconds the encoder `kb index` uses (the configured KB_ENCODER, every core) takes for `texts` alone,
    once loaded and warm: tokenizing, the model and pooling, nothing of the build around them."""
    from kb.index.embedder import make_embedder

    embedder = make_embedder(Settings.from_env(), batch=True)
    embedder.encode(texts[:32])  # warm: the first call loads and allocates
    texts = sorted(texts, key=len)  # as the build batches them: texts of a length together pad least
    started = time.perf_counter()
    for start in range(0, len(texts), embedder.batch_size):  # the batches the build sends
        embedder.encode(texts[start : start + embedder.batch_size])
    return time.perf_counter() - started


def one_article_updates(articles: Path, index: Path, count: int) -> list[float]:
    """Seconds of `kb index` after appending one new sentence to one article, `count` times."""
    files = sorted(articles.rglob("*.md"))
    timings = []
    for trial, file in enumerate(random.Random(11).sample(files, min(count, len(files)))):
        text = file.read_text(encoding="utf-8")
        file.write_text(text.rstrip("\n") + f"\n\nAsk about the kbupdate{trial} setting.\n", encoding="utf-8")
        timings.append(run_index(articles, index))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("articles", type=Path, help="a folder made by bench/generate_help_center.py")
    parser.add_argument("--updates", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=REPOSITORY / "bench" / ".cache" / "build-throughput")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "PERFORMANCE.md")
    parser.add_argument(
        "--index",
        type=Path,
        help="the articles' index, already built: only time one-article updates, in place (edits the articles)",
    )
    arguments = parser.parse_args()
    if not any(arguments.articles.rglob("*.md")):
        parser.error(f"{arguments.articles} holds no Markdown articles")
    if arguments.index:
        updates_only(arguments)
        return
    articles, index = arguments.workdir / "articles", arguments.workdir / "index"
    shutil.rmtree(arguments.workdir, ignore_errors=True)
    shutil.copytree(arguments.articles, articles)  # the updates edit a copy, never the given folder
    before = machine_line()
    print("kb index from scratch ...", file=sys.stderr)
    build_seconds = run_index(articles, index)
    manifest = load_published_index(index).manifest
    texts = embedded_texts(index)
    settings = Settings.from_env()
    batch_size = settings.embed_batch_size
    print(
        f"built {manifest.chunk_count} chunks in {build_seconds:.1f} s; encoding {len(texts)} texts ...",
        file=sys.stderr,
    )
    encode_seconds = model_seconds(texts)
    updates = one_article_updates(articles, index, arguments.updates)
    build_rate, model_rate = manifest.chunk_count / build_seconds, len(texts) / encode_seconds
    command = f"python bench/build_throughput.py {arguments.articles} --updates {arguments.updates}"
    update_cell = (
        f"{statistics.median(updates):.2f} s (median of {len(updates)}; max {max(updates):.2f} s)" if updates else "-"
    )
    body = f"""Generated by `{command}`. Started {before}; ended with load average
{" / ".join(f"{value:.2f}" for value in os.getloadavg())}. The help center: {manifest.article_count} articles,
{manifest.chunk_count} chunks ({len(texts)} distinct texts embedded), build `{current_build(index).name}`.

`kb index` from scratch is timed from process start to exit (model load, Markdown, embedding, BM25,
FAISS, writing and publishing); the model alone is the same encoder (`KB_ENCODER` {settings.encoder.value},
every core) embedding exactly the texts that build embedded, sorted by length as the build sends them, in batches
of {batch_size}, loaded beforehand.
The one-article update appends
a sentence to one article and runs `kb index` again (a new process, as a writer's save does).

| step | seconds | chunks/s | ratio to the model alone |
|---|---|---|---|
| `kb index` from scratch | {build_seconds:.1f} | {build_rate:.0f} | {build_seconds / encode_seconds:.2f}× the time |
| model encode alone | {encode_seconds:.1f} | {model_rate:.0f} | 1.00× |

One-article incremental `kb index`: {update_cell}.
"""
    replace_section(arguments.output, SECTION, body)
    print(body, file=sys.stderr)


def updates_only(arguments: argparse.Namespace) -> None:
    """One-article updates of an existing help center and its index, in place: its own section, by size."""
    before = machine_line()
    updates = one_article_updates(arguments.articles, arguments.index, arguments.updates)
    manifest = load_published_index(arguments.index).manifest
    command = (
        f"python bench/build_throughput.py {arguments.articles} --index {arguments.index} --updates {arguments.updates}"
    )
    body = f"""Generated by `{command}`. Started {before}; ended with load average
{" / ".join(f"{value:.2f}" for value in os.getloadavg())}. The help center: {manifest.article_count} articles,
{manifest.chunk_count} chunks, vectors {manifest.vector_index}. Each update appends a sentence to one article
and runs `kb index` in a new process, as a writer's save does: start, model load, reading and hashing every
article, embedding the changed sections, BM25, the vector index, writing and publishing.

| update | seconds |
|---|---|
{chr(10).join(f"| {number} | {seconds:.2f} |" for number, seconds in enumerate(updates, 1))}

Median {statistics.median(updates):.2f} s, max {max(updates):.2f} s.
"""
    replace_section(arguments.output, f"One-article update, {manifest.article_count:,} articles", body)
    print(body, file=sys.stderr)


if __name__ == "__main__":
    main()
