"""The outbox: claiming due deliveries with a lease, retrying with backoff, and the worker that sends them.

Every server process runs one DeliveryWorker thread. A worker claims a due row with a conditional
UPDATE that sets `claimed_until` (a lease), so two servers never send the same row at once; a
server killed mid-send leaves a lease that expires, and the row is tried again. A delivered row is
never claimed again; a row that failed `KB_CONTACT_DELIVERY_ATTEMPTS` times is `failed` and stays
until `kb contact retry` re-drives it. Receivers see the same reference on every attempt, so the
rare repeat (a server killed after sending, before marking) can be dropped by them.
"""

from __future__ import annotations

import datetime
import logging
import random
import threading
import time

from sqlalchemy import func, or_, select, update

from kb.config import Settings
from kb.errors import DeliveryError, KbError
from kb.store.contact import settle_deflections
from kb.store.database import Storage
from kb.store.delivery import Delivery, Sender, request_document, senders
from kb.store.models import ContactEventRow, ContactRequestRow, OutboxRow, now

logger = logging.getLogger("kb.contact")

LONGEST_BACKOFF_SECONDS = 3600.0
CLAIMS_PER_ROUND = 10
IDLE_POLL_SECONDS = 5.0  # how often an idle worker looks for rows another server stored
SETTLE_EVERY_SECONDS = 60.0


def lease_for(settings: Settings) -> datetime.timedelta:
    """Longer than any one attempt can take (connecting, then the answer, each within the timeout)."""
    return datetime.timedelta(seconds=2 * settings.contact_delivery_timeout + 10)


def backoff(attempt: int, base_seconds: float) -> float:
    """Seconds before the retry after failed attempt `attempt`: doubling from `base_seconds`, capped, half jittered.

    The jitter spreads the retries of many requests that failed together (the receiver was down).
    """
    ceiling = min(LONGEST_BACKOFF_SECONDS, base_seconds * 2 ** min(attempt - 1, 30))
    return ceiling * random.uniform(0.5, 1.0)


def is_claimable(moment: datetime.datetime):  # type: ignore[no-untyped-def]
    return (
        (OutboxRow.status == "pending")
        & (OutboxRow.next_attempt_at <= moment)
        & or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < moment)
    )


def claim_due(
    storage: Storage, lease: datetime.timedelta, limit: int = CLAIMS_PER_ROUND, moment: datetime.datetime | None = None
) -> list[Delivery]:
    """Claim up to `limit` due rows for `lease`; each claim counts as an attempt (a crash mid-send included)."""
    moment = moment or now()
    claimed: list[Delivery] = []
    with storage.session(write=True) as session:
        candidates = session.scalars(
            select(OutboxRow.id).where(is_claimable(moment)).order_by(OutboxRow.next_attempt_at).limit(limit)
        ).all()
        for outbox_id in candidates:
            # Conditional: a row another server claimed since the select above is left to it.
            result = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == outbox_id, is_claimable(moment))
                .values(claimed_until=moment + lease, attempts=OutboxRow.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                continue
            row = session.get(OutboxRow, outbox_id, populate_existing=True)
            request = session.get(ContactRequestRow, row.request_id) if row else None
            if row is None or request is None:
                continue
            came_from = session.scalar(
                select(ContactEventRow.slug).where(
                    ContactEventRow.form == request.form, ContactEventRow.kind == "came_from"
                )
            )
            document = request_document(request, came_from or "")
            claimed.append(Delivery(row.id, row.channel, row.attempts, request.reference, document))
    return claimed


def finish(
    storage: Storage, delivery: Delivery, error: str | None, settings: Settings, moment: datetime.datetime | None = None
) -> str:
    """Record how an attempt went; returns the row's new status (delivered, pending or failed)."""
    moment = moment or now()
    with storage.session(write=True) as session:
        if error is None:
            values: dict[str, object] = {"status": "delivered", "delivered_at": moment, "last_error": ""}
        elif delivery.attempt >= settings.contact_delivery_attempts:
            values = {"status": "failed", "last_error": error[:1000]}
        else:
            delay = datetime.timedelta(seconds=backoff(delivery.attempt, settings.contact_retry_seconds))
            values = {"status": "pending", "next_attempt_at": moment + delay, "last_error": error[:1000]}
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == delivery.outbox_id, OutboxRow.status == "pending")
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
    return str(values["status"])


def next_due(storage: Storage) -> datetime.datetime | None:
    """When the earliest pending row is due (its lease's end if it is claimed), or None."""
    with storage.session() as session:
        due = session.scalar(
            select(func.min(func.coalesce(OutboxRow.claimed_until, OutboxRow.next_attempt_at))).where(
                OutboxRow.status == "pending"
            )
        )
    if due is None:
        return None
    return due if due.tzinfo else due.replace(tzinfo=datetime.UTC)


def deliver_due(storage: Storage, settings: Settings, channel_senders: dict[str, Sender] | None = None) -> int:
    """One round: claim the due rows and send each; returns how many were delivered."""
    channel_senders = channel_senders or senders(settings)
    delivered = 0
    for delivery in claim_due(storage, lease_for(settings)):
        sender = channel_senders.get(delivery.channel)
        try:
            if sender is None:
                raise DeliveryError(f"the {delivery.channel} channel is not configured on this server")
            sender(delivery)
        except DeliveryError as error:
            status = finish(storage, delivery, str(error), settings)
            log = logger.error if status == "failed" else logger.warning
            log("contact request %s, %s attempt %d: %s (%s)", delivery.reference, delivery.channel,
                delivery.attempt, error, status)  # fmt: skip
        except Exception as error:  # a bug in a sender must not stop the worker: retried like a failure
            logger.exception("contact request %s: %s failed unexpectedly", delivery.reference, delivery.channel)
            finish(storage, delivery, f"{type(error).__name__}: {error}", settings)
        else:
            finish(storage, delivery, None, settings)
            delivered += 1
    return delivered


class DeliveryWorker:
    """A daemon thread that sends due outbox rows, sleeping until the next is due or `wake()` is called."""

    def __init__(self, storage: Storage, settings: Settings, channel_senders: dict[str, Sender] | None = None) -> None:
        self.storage = storage
        self.settings = settings
        self.senders = channel_senders or senders(settings)
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.last_settled = float("-inf")

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self.run, name="kb-contact-delivery", daemon=True)
            self.thread.start()

    def wake(self) -> None:
        """A request was just stored: look at once instead of at the next poll."""
        self.wakeup.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.wakeup.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def run(self) -> None:
        while not self.stopping.is_set():
            self.wakeup.clear()
            wait = IDLE_POLL_SECONDS
            try:
                deliver_due(self.storage, self.settings, self.senders)
                self.settle()
                due = next_due(self.storage)
                if due is not None:
                    wait = min(wait, max(0.05, (due - now()).total_seconds()))
            except KbError as error:  # the database is down: the rows wait in it, nothing is lost
                logger.warning("contact delivery paused: %s", error)
            except Exception:
                logger.exception("contact delivery round failed")
            self.wakeup.wait(wait)

    def settle(self) -> None:
        """Now and then, count the forms that ended in a deflection (any server may; each is counted once)."""
        if time.monotonic() - self.last_settled < SETTLE_EVERY_SECONDS:
            return
        self.last_settled = time.monotonic()
        quiet = datetime.timedelta(minutes=self.settings.contact_deflection_minutes)
        settle_deflections(self.storage, quiet)
