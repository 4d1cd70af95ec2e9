"""`kb index` and `kb serve` as real processes (with the fake embedder), and generated help centers."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPOSITORY
from tests.defences.fake_model_kb import READY

WORDS = (
    "invoice payment client refund tax report export import currency reminder receipt account password "
    "login team plan upgrade card bank transfer discount estimate project timesheet expense mileage vendor "
    "bill recurring subscription"
).split()


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any KB_* variable, plus `settings`; the worktree's code first."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KB_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPOSITORY), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(settings)
    return env


def kb_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "tests.defences.fake_model_kb", *arguments]


def run_kb(*arguments: str, timeout: float = 120, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `kb ARGUMENTS` to completion with the fake embedder."""
    return subprocess.run(
        kb_command(*arguments), env=environment(**settings), capture_output=True, text=True, timeout=timeout
    )


def start_kb(*arguments: str, **settings: str) -> subprocess.Popen[str]:
    """Start `kb ARGUMENTS` and return once it has imported everything and starts to work."""
    process = subprocess.Popen(
        kb_command(*arguments),
        env=environment(**settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first_line = process.stderr.readline().strip()
    assert first_line == READY, f"kb did not start: {first_line} {process.stderr.read()}"
    return process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kb serve exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"kb serve did not answer /healthz in {timeout} s:\n{log.read_text()}")


@contextlib.contextmanager
def serving(articles: Path, index: Path, log: Path, *options: str, **settings: str) -> Iterator[str]:
    """`kb serve` (gunicorn, as in production) on a free port; yields its base URL, stops it afterwards.

    The agents database is kb.sqlite3 in `data` beside the index folder unless `KB_DATA` says otherwise.
    """
    port = free_port()
    settings = {"KB_DATA": str(index.parent / "data"), **settings}
    with log.open("wb") as output:
        process = subprocess.Popen(
            kb_command("serve", "--articles", str(articles), "--index", str(index), "--port", str(port), *options),
            env=environment(KB_SECRET_KEY="defence-tests", **settings),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # gunicorn's workers go with it when the test stops the group
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base_url, process, log)
            yield base_url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """(status, body) of one request; error statuses are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def generate_help_center(root: Path, count: int, seed: int = 7) -> None:
    """`count` articles of six long sections each in twelve categories: a build that takes seconds."""
    rng = random.Random(seed)
    for number in range(count):
        category = root / f"topic-{number % 12:02d}"
        category.mkdir(parents=True, exist_ok=True)
        sections = [
            f"## Section {section} about {rng.choice(WORDS)}\n\n{' '.join(rng.choices(WORDS, k=120))}\n"
            for section in range(6)
        ]
        (category / f"article-{number:04d}.md").write_text(
            f"---\ntitle: Article {number} on {rng.choice(WORDS)} and {rng.choice(WORDS)}\n"
            f"summary: What to know about {rng.choice(WORDS)}.\ntags: [{rng.choice(WORDS)}]\n---\n"
            f"Introduction {number}.\n\n" + "\n".join(sections),
            encoding="utf-8",
        )
