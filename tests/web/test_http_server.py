"""A real `kb serve` (gunicorn) on 127.0.0.1: long queries, gunicorn's own errors in the site's shapes, a damaged index.

The server runs `kb serve` with the fake embedder (tests/web/serve_with_fake_embedder.py), so no
worker loads the model; what is tested is gunicorn and the start-up, not search quality.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kb.config import Settings
from tests.conftest import REPOSITORY
from tests.web.test_openapi import SERVER_ANSWERS, check_against_document
from web.openapi import openapi_document

START_TIMEOUT = 60.0


@dataclass
class Answer:
    """A raw HTTP answer read off the socket, with the attributes check_against_document reads."""

    status_code: int
    headers: dict[str, str]
    body: bytes

    @property
    def mimetype(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0]

    def get_json(self) -> object:
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def send(self, raw: bytes) -> Answer:
        """Send raw bytes as one request and read the whole answer (the server closes or sends Content-Length)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(raw)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:])
            length = int(headers.get("Content-Length", "0"))
            while len(body) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                body += chunk
        return Answer(int(lines[0].split(" ")[1]), headers, body)

    def get(self, target: str, extra_headers: str = "") -> Answer:
        request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra_headers}\r\n"
        return self.send(request.encode("latin-1"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(settings: Settings, log: Path, workers: int = 1, watch: bool = False) -> Server:
    """`kb serve` on a free port; returns once /healthz answers (whatever its status).

    The agents database is `settings.database_url`, else kb.sqlite3 in `settings.data`.
    """
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "KB_SECRET_KEY": "test-secret"}
    environment.update(KB_DATA=str(settings.data), KB_DATABASE_URL=settings.database_url)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.web.serve_with_fake_embedder"]
            + ["--articles", str(settings.articles), "--index", str(settings.index)]
            + ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
            + (["--watch"] if watch else []),
            cwd=REPOSITORY,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return server
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise AssertionError(f"kb serve did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)  # gunicorn and its workers, started in their own session
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@pytest.fixture
def server(built_settings: Settings, tmp_path: Path) -> Iterator[Server]:
    running = start_server(built_settings, tmp_path / "server.log")
    assert running.process.poll() is None, running.log.read_text()
    yield running
    stop_server(running)


def cyrillic_query(characters: int) -> str:
    words = ("неоплаченныйсчёт", "восстановлениепароля", "рабочеепространство", "электроннаяпочта")
    text = ""
    while len(text) < characters:
        text += words[len(text) % len(words)] + " "
    return text[:characters].strip() + "я"


def assert_one_error_shape(answer: Answer, status: int, code: str) -> str:
    assert answer.status_code == status, answer.body
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.get_json()
    assert isinstance(body, dict) and list(body) == ["error"]
    assert list(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    return str(body["error"]["message"])


def test_a_700_character_cyrillic_query_is_answered(server: Server) -> None:
    query = cyrillic_query(700)
    target = "/api/search?q=" + urllib.parse.quote(query)
    assert len(target) > 4094  # past gunicorn's default limit of the request line
    answer = server.get(target)
    assert answer.status_code == 200, answer.body[:300]
    body = answer.get_json()
    assert body == {  # type: ignore[comparison-overlap]
        "query": query,
        "results": body["results"],  # type: ignore[index]
        "confident": False,
        "answer_card": None,
        "search_token": body["search_token"],  # type: ignore[index]
    }
    assert server.get("/search?q=" + urllib.parse.quote(query)).status_code == 200


@pytest.mark.parametrize("path, method, status", sorted(SERVER_ANSWERS))
def test_an_address_longer_than_the_server_reads_gets_the_documented_json_error(
    server: Server, built_settings: Settings, path: str, method: str, status: int
) -> None:
    long_text = urllib.parse.quote(cyrillic_query(1500))
    target = {"/api/search": "/api/search?q=" + long_text, "/api/articles/{slug}": "/api/articles/" + long_text}[path]
    answer = server.get(target)
    message = assert_one_error_shape(answer, status, "uri_too_long")
    assert "8190 bytes" in message and "shorten the query" in message
    check_against_document(openapi_document(built_settings), path, method, answer)


def test_an_address_longer_than_the_server_reads_gets_friendly_text_on_pages(server: Server) -> None:
    answer = server.get("/search?q=" + urllib.parse.quote(cyrillic_query(1500)))
    assert answer.status_code == 414
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.text() == "That search is too long for this help center. Please use fewer words and try again."


def test_health_check_errors_from_gunicorn_are_json(server: Server) -> None:
    answer = server.get("/healthz?" + "x" * 9000)
    assert_one_error_shape(answer, 414, "uri_too_long")


def test_oversized_headers_get_the_json_error_shape(server: Server) -> None:
    answer = server.get("/api/categories", extra_headers=f"X-Padding: {'x' * 9000}\r\n")
    assert_one_error_shape(answer, 431, "request_headers_too_large")
    page = server.get("/", extra_headers=f"Cookie: {'x' * 9000}\r\n")
    assert page.status_code == 431
    assert page.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "cookies" in page.text()


def test_malformed_http_gets_the_json_error_shape(server: Server) -> None:
    answer = server.send(b"GET /api/categories HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n")
    assert "not valid HTTP" in assert_one_error_shape(answer, 400, "bad_request")
    page = server.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n")
    assert (page.status_code, page.headers["Content-Type"]) == (400, "text/plain; charset=utf-8")
    assert "<html>" not in page.text()


ESTABLISHED = "01"  # the state column of /proc/net/tcp


def worker_holding(client: socket.socket) -> int:
    """The pid of the server process holding the other end of `client`'s connection, found through /proc."""
    host, port = client.getsockname()
    here = f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    # The established server end; an earlier connection from the same port may linger in TIME_WAIT (inode 0).
    inodes = [row[9] for row in rows if row[2] == here and row[3] == ESTABLISHED]
    assert len(inodes) == 1, f"no single server end for {here}: {inodes}"
    for descriptors in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(descriptor) == f"socket:[{inodes[0]}]" for descriptor in descriptors.iterdir()):
                return int(descriptors.parent.name)
        except OSError:  # a process that ended, or is not ours
            continue
    raise AssertionError(f"no process holds socket {inodes[0]}")


def test_two_clients_are_served_by_two_workers(built_settings: Settings, tmp_path: Path) -> None:
    """A worker already holding a connection leaves the next one to an idle worker, round after round."""
    running = start_server(built_settings, tmp_path / "server.log", workers=2)
    try:
        request = b"GET /api/search?q=password HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

        def round_() -> int:
            """Two clients connect one after the other, each answered and kept alive: how many workers hold them.

            Both workers wait idle for the second, so without the deferral either could take it.
            """
            clients = []
            for _ in range(2):
                clients.append(socket.create_connection(("127.0.0.1", running.port), timeout=10))
                clients[-1].sendall(request)
                assert clients[-1].recv(65536).startswith(b"HTTP/1.1 200 ")
            workers = len({worker_holding(client) for client in clients})
            for client in clients:
                client.close()
            time.sleep(0.2)  # both workers see their connections close
            return workers

        deadline = time.monotonic() + START_TIMEOUT
        while round_() < 2:  # the server answers once one worker is up; the other may still be starting
            assert time.monotonic() < deadline, "the second worker never answered"
        spread = [round_() for _ in range(30)]
    finally:
        stop_server(running)
    assert spread == [2] * 30


def children_of(parent: int) -> dict[int, str]:
    """The running child processes of `parent`: their command lines."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if fields[1] == str(parent) and fields[0] != "Z":
            found[int(stat.parent.name)] = command
    return found


def test_a_worker_that_exits_leaves_the_watcher_running_and_stopping_is_clean(
    built_settings: Settings, tmp_path: Path
) -> None:
    """gunicorn replaces a worker that exits; the watcher it started before forking must outlive it.

    It was a multiprocessing child, and each worker that exited terminated it on its way out, then
    logged a traceback and exited with code 1.
    """
    running = start_server(built_settings, tmp_path / "server.log", workers=2, watch=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(children := children_of(running.process.pid)) < 3:
            assert time.monotonic() < deadline, f"no watcher and two workers: {children}"
            time.sleep(0.2)
        [watcher] = [pid for pid, command in children.items() if "watch_with_fake_embedder" in command]
        worker = min(pid for pid in children if pid != watcher)
        os.kill(worker, signal.SIGTERM)  # a worker's graceful exit, as on a restart
        while worker in (children := children_of(running.process.pid)) or len(children) < 3:
            assert time.monotonic() < deadline, f"the worker was not replaced: {children}"
            time.sleep(0.2)
        time.sleep(0.5)
        assert watcher in children_of(running.process.pid)
        article = built_settings.articles / "account" / "reset-password.md"
        article.write_text(article.read_text().replace("title: Reset your password", "title: Reset your passphrase"))
        while "passphrase" not in running.get("/api/search?q=passphrase").text():
            assert time.monotonic() < deadline, "the watcher did not publish the edit"
            time.sleep(0.2)
    finally:
        running.process.send_signal(signal.SIGTERM)  # the master alone, as a service manager stops it
        running.process.wait(timeout=20)
        stop_server(running)
    log = running.log.read_text()
    assert "Traceback" not in log and "exited with code" not in log, log
    assert watcher not in children_of(os.getpid()) and not Path(f"/proc/{watcher}").exists()


def test_kb_serve_over_a_damaged_live_build_serves_the_last_good_build(
    built_settings: Settings, fake_embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from indexer.build import build_index

    earlier = (built_settings.index / "current").resolve()
    welcome = built_settings.articles / "getting-started" / "welcome.md"
    welcome.write_text(welcome.read_text(encoding="utf-8").replace("Welcome to", "Welcome aboard"), encoding="utf-8")
    build_index(built_settings, fake_embedder, show_progress=False)
    live = (built_settings.index / "current").resolve()
    (live / "vectors.faiss").write_bytes(b"not a faiss index")
    running = start_server(built_settings, tmp_path / "server.log")
    try:
        assert running.process.poll() is None, running.log.read_text()
        health = running.get("/healthz")
        assert health.status_code == 200
        assert health.get_json()["status"] == "degraded"  # type: ignore[index]
        assert health.get_json()["build"] == earlier.name  # type: ignore[index]
        assert running.get("/").status_code == 200
    finally:
        stop_server(running)
    log = running.log.read_text()
    assert f"the published build {live.name} is damaged; serving the earlier build {earlier.name}" in log


def test_kb_serve_over_a_damaged_build_with_nothing_earlier_answers_503(
    built_settings: Settings, tmp_path: Path
) -> None:
    ((built_settings.index / "current").resolve() / "chunks.jsonl").write_text("{not json", encoding="utf-8")
    running = start_server(built_settings, tmp_path / "server.log")
    try:
        assert running.process.poll() is None, running.log.read_text()
        assert_one_error_shape(running.get("/api/categories"), 503, "index_invalid")
        assert running.get("/").status_code == 503
        assert running.get("/healthz").status_code == 503
    finally:
        stop_server(running)
