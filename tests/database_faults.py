"""Databases that misbehave, for the tests that prove agents' database trouble never reaches the public site.

`refusing_url()` names a PostgreSQL port where nothing listens; `HungDatabase` accepts connections and
never says a word, like a server stuck on a full disk or a lost network path.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def refusing_url() -> str:
    """A PostgreSQL URL whose server refuses every connection (nothing listens on the port)."""
    return f"postgresql+psycopg://kb@127.0.0.1:{free_port()}/kb"


class HungDatabase:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers (until closed)."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self.accept_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://kb@127.0.0.1:{self.port}/kb"

    def accept_forever(self) -> None:
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)  # held open, never read from or written to

    def __enter__(self) -> HungDatabase:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.closed.set()
        self.listener.close()
        for connection in self.accepted:
            connection.close()
