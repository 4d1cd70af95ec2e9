"""Contact requests: stored first with their outbox rows, the contact form's events, and deflections.

A request is stored in one transaction with one outbox row per configured channel and the
`contact_requests` counter, before any delivery is tried, so nothing a customer sent is lost when a
webhook or mail server fails or the server dies. Each visit to the form has a random form-session
token; its events (suggestions shown, a suggestion opened, the request sent) say whether the
suggestions helped. A form where a suggestion was opened and nothing was sent counts as a deflection
once it has been quiet for `KB_CONTACT_DEFLECTION_MINUTES`; `settle_deflections` counts it then,
exactly once, in the `deflections` counter that outlives the purge of raw rows.
"""

from __future__ import annotations

import datetime
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from kb.errors import StorageError
from kb.store.contact_form import ContactForm
from kb.store.counters import bump, counts
from kb.store.database import Storage
from kb.store.models import ContactEventRow, ContactRequestRow, OutboxRow, now
from kb.store.privacy import address_hash, daily_salt

CHANNELS = ("webhook", "email")
STATUSES = ("pending", "delivered", "failed")
# suggestions_shown, suggestion_opened and sent are the form's steps; came_from names the article whose
# "no" vote led here; deflected marks a form already counted as a deflection.
EVENT_KINDS = ("suggestions_shown", "suggestion_opened", "sent", "came_from", "deflected")
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L or U: easy to read out on the phone
MOST_SUGGESTIONS = 20
SETTLE_LOCK = 4_242_005  # PostgreSQL advisory lock: one server at a time counts deflections


@dataclass(frozen=True)
class StoredRequest:
    """A contact request as `kb contact list` shows it, with each channel's delivery."""

    reference: str
    created_at: datetime.datetime
    name: str
    email: str
    subject: str
    deliveries: tuple[tuple[str, str, int, str], ...]  # (channel, status, attempts, last error)

    @property
    def status(self) -> str:
        """failed if any channel failed, else pending if any is pending, else delivered (or stored: no channel)."""
        statuses = {status for _, status, _, _ in self.deliveries}
        for status in ("failed", "pending", "delivered"):
            if status in statuses:
                return status
        return "stored"


def new_reference() -> str:
    """What the customer quotes to support: REQ-XXXX-XXXX, 40 random bits."""
    letters = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"REQ-{letters[:4]}-{letters[4:]}"


def new_form_token() -> str:
    return secrets.token_urlsafe(16)[:22]


def visitor_address_hash(storage: Storage, address: str) -> str:
    """The address hashed with today's salt: counts a visitor's requests without keeping the address."""
    with storage.session(write=True) as session:
        return address_hash(daily_salt(session), address)


def requests_since(storage: Storage, visitor: str, since: datetime.datetime) -> int:
    """Requests sent by `visitor` (an address hash) since `since`: what the rate limit counts."""
    with storage.session() as session:
        found = session.scalar(
            select(func.count())
            .select_from(ContactRequestRow)
            .where(ContactRequestRow.visitor == visitor, ContactRequestRow.created_at > since)
        )
        return int(found or 0)


def store_request(
    storage: Storage,
    form: ContactForm,
    *,
    channels: Sequence[str],
    form_token: str,
    suggestions: Sequence[str] = (),
    came_from: str = "",
    visitor: str | None = None,
    event_visitor: str | None = None,
) -> str:
    """Store the request, its outbox rows (one per channel), its events and the counter in one transaction.

    A form token that was already sent returns the first request's reference (a double click, a
    reload), so one visit to the form never makes two requests.

    Returns:
        The request's reference, which the customer is shown.
    """
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise StorageError(f"unknown delivery channel {sorted(unknown)[0]!r}; channels are {', '.join(CHANNELS)}")
    shown = list(dict.fromkeys(slug[:200] for slug in suggestions))[:MOST_SUGGESTIONS]
    for _ in range(5):  # a reference already taken (one chance in 10^12) draws another
        try:
            with storage.session(write=True) as session:
                earlier = session.scalar(
                    select(ContactRequestRow.reference).where(ContactRequestRow.form == form_token)
                )
                if earlier is not None:
                    return earlier
                return add_request(session, form, channels, form_token, shown, came_from, visitor, event_visitor)
        except IntegrityError:
            continue
    raise StorageError("no free request reference could be drawn; try again")


def add_request(
    session: Session,
    form: ContactForm,
    channels: Sequence[str],
    form_token: str,
    shown: list[str],
    came_from: str,
    visitor: str | None,
    event_visitor: str | None,
) -> str:
    moment = now()
    row = ContactRequestRow(
        reference=new_reference(),
        created_at=moment,
        name=form.name,
        email=form.email,
        product=form.product,
        order_number=form.order_number,
        purchase_date=form.purchase_date,
        warranty=form.warranty,
        subject=form.subject,
        description=form.description,
        suggestions=json.dumps(shown),
        form=form_token,
        visitor=visitor,
    )
    session.add(row)
    session.flush()
    for channel in dict.fromkeys(channels):
        session.add(OutboxRow(request_id=row.id, channel=channel, next_attempt_at=moment, created_at=moment))
    earlier = session.execute(
        select(ContactEventRow.kind, ContactEventRow.slug).where(ContactEventRow.form == form_token)
    )
    recorded = {(kind, slug) for kind, slug in earlier}  # suggestions a "check these first" step recorded
    events = [("came_from", came_from[:200])] if came_from else []
    events += [("suggestions_shown", slug) for slug in shown] + [("sent", "")]
    for kind, slug in [event for event in events if event not in recorded]:
        session.add(ContactEventRow(form=form_token, kind=kind, slug=slug, visitor=event_visitor, created_at=moment))
    bump(session, "contact_requests")
    session.flush()
    return row.reference


def record_events(
    storage: Storage, form_token: str, kind: str, slugs: Iterable[str], visitor: str | None = None
) -> None:
    """Record `kind` for each slug (suggestions shown, a suggestion opened) in the form session `form_token`."""
    if kind not in EVENT_KINDS:
        raise StorageError(f"event kind must be one of {', '.join(EVENT_KINDS)}, got {kind!r}")
    with storage.session(write=True) as session:
        for slug in dict.fromkeys(slugs):
            session.add(ContactEventRow(form=form_token[:32], kind=kind, slug=slug[:200], visitor=visitor))


def form_events(storage: Storage, form_token: str) -> list[tuple[str, str]]:
    """(kind, slug) of every event of one form session, in order."""
    with storage.session() as session:
        rows = session.execute(
            select(ContactEventRow.kind, ContactEventRow.slug)
            .where(ContactEventRow.form == form_token)
            .order_by(ContactEventRow.id)
        )
        return [(kind, slug) for kind, slug in rows]


def lock_for_settling(session: Session) -> None:
    """Make servers that count deflections at once take turns, so that no form is counted twice."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETTLE_LOCK})
    else:  # a write, however empty, takes SQLite's write lock until the transaction ends
        session.execute(update(ContactEventRow).where(ContactEventRow.id < 0).values(kind="deflected"))


def settle_deflections(storage: Storage, quiet: datetime.timedelta, moment: datetime.datetime | None = None) -> int:
    """Count each form session with a suggestion opened, nothing sent, and no event for `quiet`, as one deflection.

    The counter is bumped on the day of the form's last opened suggestion, and the form is marked
    `deflected` in the same transaction, so a form is counted once whichever server settles it.

    Returns:
        How many forms were counted now.
    """
    moment = moment or now()
    later = aliased(ContactEventRow)
    with storage.session(write=True) as session:
        lock_for_settling(session)
        finished = select(later.id).where(later.form == ContactEventRow.form, later.kind.in_(("sent", "deflected")))
        rows = session.execute(
            select(ContactEventRow.form, func.max(ContactEventRow.created_at))
            .where(ContactEventRow.kind == "suggestion_opened", ~exists(finished))
            .group_by(ContactEventRow.form)
        ).all()
        counted = 0
        for form_token, last_open in rows:
            last_event = session.scalar(
                select(func.max(ContactEventRow.created_at)).where(ContactEventRow.form == form_token)
            )
            if last_event is None or as_utc(last_event) > moment - quiet:
                continue  # the customer may still be reading, or writing
            session.add(ContactEventRow(form=form_token, kind="deflected", created_at=moment))
            bump(session, "deflections", day=as_utc(last_open).date())
            counted += 1
        return counted


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """SQLite hands times back without their zone; kb writes them all in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def deflection_counts(
    storage: Storage,
    since: datetime.date,
    until: datetime.date,
    quiet: datetime.timedelta = datetime.timedelta(minutes=30),
) -> dict[datetime.date, int]:
    """Deflections per day from `since` to `until` (both included), settling the forms that are quiet now first."""
    settle_deflections(storage, quiet)
    with storage.session() as session:
        return {day: count for day, _, count in counts(session, "deflections", since, until)}


def contact_requests(storage: Storage, status: str | None = None, limit: int = 200) -> list[StoredRequest]:
    """The newest requests first, with their deliveries; `status` keeps those of that overall status."""
    if status is not None and status not in (*STATUSES, "stored"):
        raise StorageError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    with storage.session() as session:
        query = select(ContactRequestRow).order_by(ContactRequestRow.id.desc())
        if status in STATUSES:
            query = query.where(
                exists(
                    select(OutboxRow.id).where(OutboxRow.request_id == ContactRequestRow.id, OutboxRow.status == status)
                )
            )
        found = []
        for row in session.scalars(query.limit(limit if status is None else limit * 5)):
            deliveries = session.execute(
                select(OutboxRow.channel, OutboxRow.status, OutboxRow.attempts, OutboxRow.last_error)
                .where(OutboxRow.request_id == row.id)
                .order_by(OutboxRow.channel)
            )
            channels = tuple((channel, state, attempts, error) for channel, state, attempts, error in deliveries)
            stored = StoredRequest(row.reference, as_utc(row.created_at), row.name, row.email, row.subject, channels)
            if status is None or stored.status == status:
                found.append(stored)
        return found[:limit]


def retry_requests(storage: Storage, reference: str | None = None, all_failed: bool = False) -> int:
    """Make the failed (or pending) deliveries of one request, or every failed one, due now with fresh attempts.

    Returns:
        How many deliveries were re-driven.

    Raises:
        StorageError: no request has `reference`.
    """
    moment = now()
    with storage.session(write=True) as session:
        condition = OutboxRow.status == "failed"
        if reference is not None:
            request_id = session.scalar(select(ContactRequestRow.id).where(ContactRequestRow.reference == reference))
            if request_id is None:
                raise StorageError(f"no contact request with reference {reference!r}")
            condition = and_(OutboxRow.request_id == request_id, OutboxRow.status != "delivered")
        elif not all_failed:
            raise StorageError("name a request's reference, or --all-failed")
        not_leased = or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < moment)  # none mid-send
        result = session.execute(
            update(OutboxRow)
            .where(condition, not_leased)
            .values(status="pending", attempts=0, next_attempt_at=moment, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
