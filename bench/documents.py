"""Benchmarks write their results as one `## ` section of a shared Markdown document, keeping the others."""

from __future__ import annotations

from pathlib import Path


def replace_section(document: str, section: str) -> str:
    """`document` with the `## ` section titled as `section`'s first line replaced by `section`.

    The section is appended when the document has none of that title; every other section, and the
    text before the first `## ` heading, stays as it was.
    """
    heading = section.split("\n", 1)[0].strip()
    if not heading.startswith("## "):
        raise ValueError(f"a section starts with a '## ' heading, not {heading!r}")
    parts = ("\n" + document).split("\n## ")
    head, sections = parts[0][1:], ["## " + part for part in parts[1:]]
    body = section.strip("\n") + "\n"
    replaced = [body if part.split("\n", 1)[0].strip() == heading else part for part in sections]
    if body not in replaced:
        replaced.append(body)
    pieces = [head.rstrip("\n") + "\n"] if head.strip() else []
    pieces += [part.rstrip("\n") + "\n" for part in replaced]
    return "\n".join(pieces)


def write_section(path: Path, section: str) -> None:
    """Put `section` into the Markdown file at `path` (see `replace_section`), creating the file if needed."""
    earlier = path.read_text(encoding="utf-8") if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(earlier, section), encoding="utf-8")
