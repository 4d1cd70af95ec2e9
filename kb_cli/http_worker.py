"""kb's gunicorn worker: connections spread across workers, and gunicorn's own errors in the site's shapes.

gunicorn answers some errors (a request line or headers too large, malformed HTTP) before the app
sees the request, with an HTML page of its own. The worker here keeps gunicorn's choice of status
and logging, and writes the one JSON error shape for the API and the health check, and a short
friendly text for the pages.

Every worker waits on the same listening socket, and whichever wakes first accepts; a worker keeps
each connection it accepts for as long as the client keeps it alive. Two clients arriving together
could land on one worker, whose threads then share one interpreter lock while another worker idles
(half the requests per second on two cores). So a worker that already holds connections lets a new
one wait a moment, longer the more it holds, for a less loaded worker to take it first.
"""

from __future__ import annotations

import json
import time
from typing import Any

from gunicorn import util
from gunicorn.http.errors import LimitRequestLine
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker

from web.errors import SERVER_ERROR_MESSAGE, code_for_status, error_body, is_json_path
from web.security import SECURITY_HEADERS

ACCEPT_DELAY_PER_CONNECTION = 0.005  # seconds a worker holding connections waits before taking another
ACCEPT_DELAY_MOST = 0.020  # however many it holds: a connection never waits longer for a busy worker
TARGET_PREFIX_BYTES = 2048  # enough of an over-long request line to tell an /api target from a page

API_MESSAGES = {
    400: "the request is not valid HTTP: {detail}",
    414: "the request line is longer than {line_limit} bytes, the most this server reads: shorten the query "
    "(letters outside ASCII take 6 to 12 bytes each once percent-encoded)",
    431: "the request headers are too large: {detail}",
}
PAGE_MESSAGES = {
    400: "Your browser sent a request this help center could not understand. Please try again.",
    414: "That search is too long for this help center. Please use fewer words and try again.",
    431: "Your browser sent more data than this help center accepts. Clearing this site's cookies usually helps.",
}


class TargetKeepingRequest(Request):
    """gunicorn's request, which names its target on a parse error even before the target was parsed."""

    def read_line(self, unreader: Any, buf: bytearray, limit: int = 0) -> Any:
        try:
            return super().read_line(unreader, buf, limit)
        except LimitRequestLine as error:
            parts = bytes(buf[:TARGET_PREFIX_BYTES]).split(b" ", 2)
            error.request_target = parts[1].decode("latin-1") if len(parts) > 1 else None  # type: ignore[attr-defined]
            raise

    def parse(self, unreader: Any) -> Any:
        try:
            return super().parse(unreader)
        except Exception as error:
            if getattr(error, "request_target", None) is None:
                error.request_target = self.path  # type: ignore[attr-defined]  # None until the line is parsed
            raise


class TargetKeepingParser(RequestParser):  # type: ignore[misc]
    mesg_class = TargetKeepingRequest


class CapturedAnswer:
    """Stands in for the client socket while gunicorn writes its HTML error, to learn its status."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        self.data += data

    def status(self) -> tuple[int, str]:
        """(500, ...) when gunicorn wrote nothing recognisable."""
        first_line = self.data.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if len(first_line) == 3 and first_line[1].isdigit():
            return int(first_line[1]), first_line[2]
        return 500, "Internal Server Error"


def error_answer(status: int, reason: str, target: str | None, detail: str, line_limit: int) -> bytes:
    """The whole HTTP answer for an error gunicorn found: JSON for the API, friendly text for pages."""
    path = (target or "").split("?", 1)[0]
    if is_json_path(path):
        template = API_MESSAGES.get(status, SERVER_ERROR_MESSAGE if status >= 500 else reason.lower())
        message = template.format(detail=detail, line_limit=line_limit)
        body = json.dumps(error_body(code_for_status(status), message)).encode()
        content_type = "application/json"
    else:
        body = PAGE_MESSAGES.get(status, SERVER_ERROR_MESSAGE if status >= 500 else f"{reason}.").encode()
        content_type = "text/plain; charset=utf-8"
    headers = {
        "Connection": "close",
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        **SECURITY_HEADERS,
    }
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


class HelpCenterWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's thread worker that leaves new connections to less loaded workers, and answers its own
    errors in the shapes of the site."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accept_resumes_at: float | None = None  # while leaving a waiting connection to others: until when

    def accept(self, listener: Any) -> None:
        if not self.nr_conns:
            super().accept(listener)
            return
        self.set_accept_enabled(False)  # the poller stops waking this worker for the listener meanwhile
        delay = min(self.nr_conns * ACCEPT_DELAY_PER_CONNECTION, ACCEPT_DELAY_MOST)
        self.accept_resumes_at = time.monotonic() + delay

    def set_accept_enabled(self, enabled: bool) -> None:
        """gunicorn's main loop enables accepting whenever the worker is below its connection limit:
        not while a connection is left to other workers."""
        if enabled and self.accept_resumes_at is not None:
            return
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self.accept_resumes_at is not None:
            left = self.accept_resumes_at - time.monotonic()
            if left <= 0:
                self.take_a_connection_left_waiting()
            else:
                timeout = min(timeout, left)  # wake in time to take it
        super().wait_for_and_dispatch_events(timeout)

    def take_a_connection_left_waiting(self) -> None:
        """The wait is over: take one waiting connection, if no other worker took it meanwhile."""
        self.accept_resumes_at = None
        if not self.alive or self.nr_conns >= self.worker_connections:  # stopping, or full: gunicorn decides
            return
        super().set_accept_enabled(True)
        for listener in self.sockets:
            super().accept(listener)  # nothing waiting is gunicorn's EAGAIN, ignored

    def handle(self, conn: Any) -> Any:
        if conn.parser is None and not self.cfg.is_ssl:  # with TLS gunicorn wraps the socket first
            conn.parser = TargetKeepingParser(self.cfg, conn.sock, conn.client)
        return super().handle(conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        captured = CapturedAnswer()
        super().handle_error(req, captured, addr, exc)  # gunicorn's status choice and logging, its HTML kept back
        status, reason = captured.status()
        target = getattr(req, "path", None) or getattr(exc, "request_target", None)
        detail = str(exc) if status < 500 else ""
        try:
            util.write_nonblock(client, error_answer(status, reason, target, detail, self.cfg.limit_request_line))
        except Exception:  # the client is gone: nothing left to tell it
            self.log.debug("Failed to send error message.")
