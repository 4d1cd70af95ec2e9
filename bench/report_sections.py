"""Write one `## ` section of a shared report (docs/PERFORMANCE.md), keeping every other bench's sections."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path


def replace_section(path: Path, title: str, body: str, heading: str = "# Performance") -> None:
    """Put `## title` with `body` in `path`: in place of that section if present, else at the end.

    Other level-2 sections, written by other benches, are kept as they are and in their order.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else f"{heading}\n"
    head, *sections = text.split("\n## ")
    new = f"{title}\n\n{body.strip()}\n"
    names = [section.split("\n", 1)[0].strip() for section in sections]
    if title in names:
        sections[names.index(title)] = new
    else:
        sections.append(new)
    joined = head.rstrip("\n") + "\n" + "".join(f"\n## {section.rstrip(chr(10))}\n" for section in sections)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(joined, encoding="utf-8")


def machine_line() -> str:
    """CPU model, cores, Python, date and the load average now: the context any figure needs on a shared machine."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}, {model}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}, load average (1/5/15 min) {load}"
    )
