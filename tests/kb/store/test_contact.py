"""Contact requests are stored first, then delivered through the outbox exactly once; deflections are counted."""

from __future__ import annotations

import dataclasses
import datetime
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from kb.config import Settings, SmtpSecurity
from kb.errors import StorageError
from kb.store.contact import (
    contact_requests,
    deflection_counts,
    form_events,
    record_events,
    retry_requests,
    settle_deflections,
    store_request,
)
from kb.store.contact_form import ContactForm
from kb.store.counters import counts
from kb.store.database import Storage
from kb.store.delivery import Delivery
from kb.store.models import ContactRequestRow, OutboxRow, now
from kb.store.outbox import backoff, claim_due, deliver_due
from kb.store.resilience import DatabaseGuard
from tests.kb.store.contact_receivers import smtp_server, webhook_receiver

FORM = ContactForm(
    name="Ana Lima",
    email="ana@example.com",
    subject="Invoice email never arrived",
    description="I sent invoice 1042 yesterday and my client says nothing came.",
    product="Pro plan",
    order_number="ORD-7731",
    purchase_date=datetime.date(2026, 3, 14),
    warranty="Extended, until 2027",
)
TODAY = datetime.datetime.now(datetime.UTC).date()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    url = (
        f"sqlite:///{tmp_path / 'kb.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    return Storage(url, DatabaseGuard(url, permit_wait_seconds=10.0))


def delivery_settings(**changes: object) -> Settings:
    base = Settings(contact_retry_seconds=0.01, contact_delivery_timeout=2.0, contact_delivery_attempts=4)
    return dataclasses.replace(base, **changes)


def outbox_rows(store: Storage) -> list[tuple[str, str, int]]:
    with store.session() as session:
        rows = session.execute(select(OutboxRow.channel, OutboxRow.status, OutboxRow.attempts).order_by(OutboxRow.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def make_due(store: Storage) -> None:
    """Skip the backoff's wait: every pending row is due now."""
    with store.session(write=True) as session:
        for row in session.scalars(select(OutboxRow)):
            row.next_attempt_at = now() - datetime.timedelta(seconds=1)


def test_a_request_is_stored_with_its_outbox_rows_events_and_counter_in_one_go(store: Storage) -> None:
    reference = store_request(
        store, FORM, channels=["webhook", "email"], form_token="form-1", suggestions=["a", "b", "a"], came_from="c"
    )
    assert reference.startswith("REQ-") and len(reference) == 13
    with store.session() as session:
        row = session.scalar(select(ContactRequestRow))
        assert row is not None
        assert (row.reference, row.name, row.email, row.product, row.order_number) == (
            reference, "Ana Lima", "ana@example.com", "Pro plan", "ORD-7731"
        )  # fmt: skip
        assert (row.purchase_date, row.warranty, json.loads(row.suggestions)) == (
            datetime.date(2026, 3, 14), "Extended, until 2027", ["a", "b"]
        )  # fmt: skip
        assert counts(session, "contact_requests", TODAY, TODAY) == [(TODAY, "", 1)]
    assert outbox_rows(store) == [("webhook", "pending", 0), ("email", "pending", 0)]
    assert form_events(store, "form-1") == [
        ("came_from", "c"), ("suggestions_shown", "a"), ("suggestions_shown", "b"), ("sent", "")
    ]  # fmt: skip


def test_the_same_form_sent_twice_is_one_request(store: Storage) -> None:
    first = store_request(store, FORM, channels=["webhook"], form_token="form-1")
    assert store_request(store, FORM, channels=["webhook"], form_token="form-1") == first
    assert len(contact_requests(store)) == 1
    assert outbox_rows(store) == [("webhook", "pending", 0)]


def test_an_unknown_channel_is_refused(store: Storage) -> None:
    with pytest.raises(StorageError, match="unknown delivery channel 'fax'"):
        store_request(store, FORM, channels=["fax"], form_token="form-1")


def test_a_webhook_failing_twice_then_answering_ends_with_one_delivery_under_one_key(store: Storage) -> None:
    with webhook_receiver(failures=2) as receiver:
        settings = delivery_settings(contact_webhook_url=receiver.url, contact_webhook_secret="s3cret")
        reference = store_request(store, FORM, channels=["webhook"], form_token="form-1", suggestions=["refunds"])
        rounds = []
        for _ in range(5):
            rounds.append(deliver_due(store, settings))
            make_due(store)
    assert rounds == [0, 0, 1, 0, 0]
    assert outbox_rows(store) == [("webhook", "delivered", 3)]
    assert [headers["idempotency-key"] for headers, _ in receiver.calls] == [reference] * 3
    assert len(receiver.delivered) == 1
    body = receiver.delivered[0]
    assert {key: body[key] for key in ("reference", "name", "email", "product", "order_number")} == {
        "reference": reference, "name": "Ana Lima", "email": "ana@example.com", "product": "Pro plan",
        "order_number": "ORD-7731",
    }  # fmt: skip
    assert (body["purchase_date"], body["warranty"], body["suggestions_shown"]) == (
        "2026-03-14", "Extended, until 2027", ["refunds"]
    )  # fmt: skip
    import hashlib
    import hmac

    headers = receiver.calls[-1][0]
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert headers["x-kb-signature"] == "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    [stored] = contact_requests(store)
    assert stored.status == "delivered" and stored.deliveries == (("webhook", "delivered", 3, ""),)


def test_after_the_last_attempt_the_row_is_failed_and_stays_until_retried(store: Storage) -> None:
    with webhook_receiver(failures=100) as receiver:
        settings = delivery_settings(contact_webhook_url=receiver.url, contact_delivery_attempts=2)
        reference = store_request(store, FORM, channels=["webhook"], form_token="form-1")
        for _ in range(3):
            deliver_due(store, settings)
            make_due(store)
        assert outbox_rows(store) == [("webhook", "failed", 2)]
        [failed] = contact_requests(store, "failed")
        assert failed.reference == reference
        assert failed.deliveries[0][3] == "the webhook answered 503 Service Unavailable: ok"
        assert contact_requests(store, "pending") == []
        assert retry_requests(store, all_failed=True) == 1
        receiver.failures = 0
        assert deliver_due(store, settings) == 1
    assert outbox_rows(store) == [("webhook", "delivered", 1)]
    with pytest.raises(StorageError, match="no contact request with reference 'REQ-NONE-NONE'"):
        retry_requests(store, "REQ-NONE-NONE")


def test_two_servers_claiming_at_once_never_claim_the_same_row(store: Storage) -> None:
    for number in range(20):
        store_request(store, FORM, channels=["webhook"], form_token=f"form-{number}")
    other = Storage(store.url, DatabaseGuard(store.url, permit_wait_seconds=10.0))
    claimed: list[list[Delivery]] = [[], []]
    lease = datetime.timedelta(minutes=1)

    def claim(index: int, storage: Storage) -> None:
        for _ in range(5):
            claimed[index].extend(claim_due(storage, lease, limit=3))

    threads = [threading.Thread(target=claim, args=(index, storage)) for index, storage in enumerate([store, other])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [delivery.outbox_id for deliveries in claimed for delivery in deliveries]
    assert claimed[0] and claimed[1] and len(ids) == len(set(ids))  # both claimed, never the same row
    ids += [delivery.outbox_id for delivery in claim_due(store, lease, limit=100)]  # what was left
    assert sorted(ids) == list(range(1, 21))
    assert claim_due(store, lease) == []  # every row is leased


def test_an_expired_lease_is_claimed_again(store: Storage) -> None:
    store_request(store, FORM, channels=["webhook"], form_token="form-1")
    [first] = claim_due(store, datetime.timedelta(seconds=30))
    assert claim_due(store, datetime.timedelta(seconds=30)) == []
    later = now() + datetime.timedelta(seconds=31)
    [again] = claim_due(store, datetime.timedelta(seconds=30), moment=later)
    assert (again.outbox_id, again.attempt) == (first.outbox_id, 2)


def test_mail_carries_every_field_to_a_local_smtp_server(store: Storage) -> None:
    with smtp_server() as mailbox:
        settings = delivery_settings(
            contact_smtp_host=mailbox.host,
            contact_smtp_port=mailbox.port,
            contact_smtp_security=SmtpSecurity.NONE,
            contact_email_from="help@ledgerly.example",
            contact_email_to="support@ledgerly.example, lead@ledgerly.example",
        )
        reference = store_request(
            store, FORM, channels=["email"], form_token="form-1", suggestions=["refunds"], came_from="invoices"
        )
        assert deliver_due(store, settings) == 1
    [message] = mailbox.messages
    assert mailbox.envelopes == [("help@ledgerly.example", ["support@ledgerly.example", "lead@ledgerly.example"])]
    assert message["Subject"] == f"[{reference}] Invoice email never arrived"
    assert message["From"] == "help@ledgerly.example"
    assert message["Reply-To"] == "Ana Lima <ana@example.com>"
    assert message["Message-ID"] == f"<{reference}@ledgerly.example>"
    body = message.get_content()
    for line in (
        f"Reference: {reference}", "Name: Ana Lima", "Email: ana@example.com", "Product or plan: Pro plan",
        "Order number: ORD-7731", "Purchase date: 2026-03-14", "Warranty or contract: Extended, until 2027",
        "Subject: Invoice email never arrived", "Came from the article: invoices",
        "Articles suggested before sending: refunds", "I sent invoice 1042 yesterday and my client says nothing came.",
    ):  # fmt: skip
        assert line in body.splitlines()
    assert outbox_rows(store) == [("email", "delivered", 1)]


def test_an_unreachable_mail_server_is_retried_later(store: Storage) -> None:
    settings = delivery_settings(
        contact_smtp_host="127.0.0.1",
        contact_smtp_port=9,  # discard: nothing listens there
        contact_email_from="help@ledgerly.example",
        contact_email_to="support@ledgerly.example",
    )
    store_request(store, FORM, channels=["email"], form_token="form-1")
    assert deliver_due(store, settings) == 0
    [stored] = contact_requests(store)
    assert stored.deliveries[0][:3] == ("email", "pending", 1)
    assert stored.deliveries[0][3].startswith("the mail server 127.0.0.1:9 did not take the message:")


def test_a_form_left_after_opening_a_suggestion_counts_as_one_deflection(store: Storage) -> None:
    quiet = datetime.timedelta(minutes=30)
    record_events(store, "left", "suggestions_shown", ["refunds", "invoices"])
    record_events(store, "left", "suggestion_opened", ["refunds"])
    record_events(store, "sent-anyway", "suggestion_opened", ["refunds"])
    store_request(store, FORM, channels=[], form_token="sent-anyway")
    record_events(store, "never-opened", "suggestions_shown", ["refunds"])
    assert settle_deflections(store, quiet) == 0  # still within the quiet time: the customer may be reading
    later = now() + datetime.timedelta(minutes=31)
    assert settle_deflections(store, quiet, later) == 1
    assert settle_deflections(store, quiet, later) == 0  # counted once
    assert deflection_counts(store, TODAY, TODAY) == {TODAY: 1}
    assert ("deflected", "") in form_events(store, "left")


def test_the_backoff_doubles_with_jitter_and_is_capped() -> None:
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (20, 3600)]:
        for _ in range(20):
            assert ceiling / 2 <= backoff(attempt, 30) <= ceiling
