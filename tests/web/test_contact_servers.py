"""Contact requests through real `kb serve` processes: delivered exactly once despite failures and kill -9.

SQLite always; PostgreSQL (a fresh schema of the test database) when one answers on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from indexer.build import build_index
from kb.config import Settings
from kb.store.database import Storage
from kb.store.models import OutboxRow
from tests.conftest import FakeEmbedder
from tests.database_faults import HungDatabase
from tests.defences.processes import environment, fetch, free_port, kb_command, wait_until_healthy
from tests.kb.store.conftest import postgres_schema, postgres_url  # noqa: F401  (fixtures)
from tests.kb.store.contact_receivers import smtp_server, webhook_receiver

pytestmark = pytest.mark.defence

FIELDS = {
    "name": "Ana Lima",
    "email": "ana@example.com",
    "product": "Pro plan",
    "order_number": "ORD-7731",
    "purchase_date": "2026-03-14",
    "warranty": "Extended",
    "subject": "Invoice email never arrived",
    "description": "I sent invoice 1042 yesterday and my client says nothing came.",
    "step": "send",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'kb.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def help_center(settings: Settings) -> Settings:
    build_index(settings, FakeEmbedder(), show_progress=False)
    return settings


@contextlib.contextmanager
def kb_serve(settings: Settings, log: Path, **variables: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`kb serve` (gunicorn) on a free port; yields its URL and process; stopped afterwards unless already killed."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            kb_command(
                "serve", "--articles", str(settings.articles), "--index", str(settings.index), "--port", str(port)
            ),
            env=environment(KB_SECRET_KEY="contact-tests", KB_DATA=str(settings.data), **variables),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base_url, process, log)
            yield base_url, process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def send_request(base_url: str) -> str:
    """Fill in and send the contact form as a browser without JavaScript would; the reference shown."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base_url}/contact", timeout=30) as answer:
        page = answer.read().decode()
    hidden = dict(re.findall(r'name="(csrf_token|form)" value="([^"]+)"', page))
    body = urllib.parse.urlencode({**FIELDS, **hidden}).encode()
    with opener.open(f"{base_url}/contact", data=body, timeout=30) as answer:
        confirmation = answer.read().decode()
    found = re.search(r'<strong class="reference">(REQ-[A-Z0-9-]+)</strong>', confirmation)
    assert found, confirmation
    return found.group(1)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def outbox(database: str) -> list[tuple[str, str, int]]:
    with Storage(database).session() as session:
        rows = session.execute(select(OutboxRow.channel, OutboxRow.status, OutboxRow.attempts).order_by(OutboxRow.id))
        return [(channel, status, attempts) for channel, status, attempts in rows]


def test_a_webhook_failing_twice_and_a_mail_server_each_get_the_request_once(
    help_center: Settings, database: str, tmp_path: Path
) -> None:
    with webhook_receiver(failures=2) as receiver, smtp_server() as mailbox:
        variables = {
            "KB_DATABASE_URL": database,
            "KB_CONTACT_WEBHOOK_URL": receiver.url,
            "KB_CONTACT_SMTP_HOST": mailbox.host,
            "KB_CONTACT_SMTP_PORT": str(mailbox.port),
            "KB_CONTACT_SMTP_SECURITY": "none",
            "KB_CONTACT_EMAIL_FROM": "help@ledgerly.example",
            "KB_CONTACT_EMAIL_TO": "support@ledgerly.example",
            "KB_CONTACT_RETRY_SECONDS": "0.2",
        }
        with kb_serve(help_center, tmp_path / "serve.log", **variables) as (base_url, _):
            reference = send_request(base_url)
            wait_for(lambda: [status for _, status, _ in outbox(database)] == ["delivered", "delivered"])
            time.sleep(1.0)  # long enough for a second delivery to show, were there one
        assert sorted(outbox(database)) == [("email", "delivered", 1), ("webhook", "delivered", 3)]
        assert [headers["idempotency-key"] for headers, _ in receiver.calls] == [reference] * 3
        assert [body["reference"] for body in receiver.delivered] == [reference]
        [message] = mailbox.messages
        assert message["Subject"] == f"[{reference}] Invoice email never arrived"
        assert "Order number: ORD-7731" in message.get_content()


def test_a_server_killed_before_delivering_delivers_after_restart_exactly_once(
    help_center: Settings, database: str, tmp_path: Path
) -> None:
    hook_port = free_port()  # nothing listens there until the receiver starts, after the kill
    variables = {
        "KB_DATABASE_URL": database,
        "KB_CONTACT_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/hooks/contact",
        "KB_CONTACT_RETRY_SECONDS": "0.5",
        "KB_CONTACT_DELIVERY_TIMEOUT": "2",
    }
    log = tmp_path / "serve.log"
    with kb_serve(help_center, log, **variables) as (base_url, process):
        reference = send_request(base_url)
        os.killpg(process.pid, signal.SIGKILL)  # no shutdown of any kind: the worker dies mid-whatever
        process.wait(timeout=30)
    [(channel, status, attempts)] = outbox(database)
    assert (channel, status) == ("webhook", "pending")  # stored, not delivered
    with webhook_receiver(port=hook_port) as receiver:
        with kb_serve(help_center, log, **variables):
            wait_for(lambda: outbox(database)[0][1] == "delivered")
            time.sleep(1.0)
        assert [headers["idempotency-key"] for headers, _ in receiver.calls] == [reference]
    assert outbox(database) == [("webhook", "delivered", attempts + 1)]


def test_a_hung_webhook_never_slows_the_customer_or_the_site(help_center: Settings, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'data' / 'kb.sqlite3'}"
    with HungDatabase() as hung:  # accepts the webhook's connection and never answers
        variables = {
            "KB_DATABASE_URL": database,
            "KB_CONTACT_WEBHOOK_URL": f"http://127.0.0.1:{hung.port}/hooks/contact",
            "KB_CONTACT_DELIVERY_TIMEOUT": "30",
            "KB_THREADS": "2",
        }
        with kb_serve(help_center, tmp_path / "serve.log", **variables) as (base_url, _):
            started = time.perf_counter()
            references = [send_request(base_url) for _ in range(3)]
            sending = time.perf_counter() - started
            wait_for(lambda: len(hung.accepted) >= 1)  # the worker is stuck in its first delivery
            started = time.perf_counter()
            for path in ("/", "/search?q=invoice", "/articles/reset-password", "/contact"):
                status, _ = fetch(base_url + path)
                assert status == 200, path
            browsing = time.perf_counter() - started
    assert len(set(references)) == 3
    assert sending < 10 and browsing < 5, (sending, browsing)  # each page in milliseconds; 30 s if it waited
    assert [status for _, status, _ in outbox(database)] == ["pending"] * 3  # kept for the next attempt
