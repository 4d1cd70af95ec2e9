"""A webhook receiver and an SMTP server on loopback, started by tests that deliver contact requests."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class WebhookReceiver:
    """Answers 503 to the first `failures` POSTs, then 200; keeps every call's headers and JSON body."""

    failures: int = 0
    calls: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        self.calls.append((headers, json.loads(body)))
        return 503 if len(self.calls) <= self.failures else 200

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """The bodies that were answered 200."""
        return [body for index, (_, body) in enumerate(self.calls) if index >= self.failures]


@contextlib.contextmanager
def webhook_receiver(failures: int = 0, port: int = 0) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer({name.lower(): value for name, value in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/contact"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


@contextlib.contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """aiosmtpd on a free loopback port; each message it accepts lands in the mailbox."""
    import pytest

    controller_module = pytest.importorskip(
        "aiosmtpd.controller", reason="aiosmtpd is missing: pip install -e '.[test]'"
    )
    mailbox = Mailbox("127.0.0.1", 0)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  (aiosmtpd's naming)
            message = message_from_bytes(envelope.content, policy=policy.default)
            mailbox.messages.append(message)  # type: ignore[arg-type]
            mailbox.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return "250 OK"

    mailbox.port = free_port()
    controller = controller_module.Controller(Handler(), hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
