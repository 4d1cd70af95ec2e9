"""`kb serve`'s gunicorn server with the fake embedder, run in a child process by tests that need real workers.

Run as `python -m tests.fake_model_server` with the settings in `KB_*` variables. `served(...)` starts it,
waits until /healthz answers and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import REPOSITORY

BOOT_SECONDS = 30.0


@contextlib.contextmanager
def served(port: int, environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """The server on 127.0.0.1:`port`, answering /healthz; raises AssertionError with its log if it never does.

    Its output goes to the file `log`: a pipe nobody reads while the test runs would fill up and stall it.
    """
    env = {**os.environ, **environment, "KB_HOST": "127.0.0.1", "KB_PORT": str(port), "PYTHONPATH": str(REPOSITORY)}
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_model_server"],
            cwd=REPOSITORY,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            wait_until_answering(process, f"http://127.0.0.1:{port}/healthz", log)
            yield process
        finally:
            stop(process)


def wait_until_answering(process: subprocess.Popen[str], url: str, log: Path) -> None:
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers, even if with an error status
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise AssertionError(f"the server did not answer within {BOOT_SECONDS:.0f} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    import web
    from kb.config import Settings
    from kb_cli.serve_command import prepare_database, run_server
    from tests.conftest import FakeEmbedder

    real_create_app = web.create_app

    def create_app_with_fake_model(test_config: dict[str, Any] | None = None, settings: Any = None) -> Any:
        return real_create_app({**(test_config or {}), "KB_EMBEDDER": FakeEmbedder()}, settings=settings)

    web.create_app = create_app_with_fake_model  # type: ignore[assignment]
    settings = Settings.from_env(secret_key="fixed secret for the tests' workers")
    prepare_database(settings)  # as `kb serve` does before it runs the server
    run_server(settings)


if __name__ == "__main__":
    main()
