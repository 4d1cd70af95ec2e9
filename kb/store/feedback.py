"""Votes on articles ("Was this helpful?"): one per visitor and article, changed in place, counted daily."""

from __future__ import annotations

import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kb.errors import StorageError
from kb.store.counters import bump
from kb.store.database import Storage
from kb.store.models import VoteRow, now

# Why an article did not help; the keys are stored, the labels shown.
REASONS = {
    "outdated": "It's out of date",
    "unclear": "It's hard to follow",
    "unsolved": "It didn't solve my problem",
    "other": "Something else",
}
MAX_COMMENT_LENGTH = 1000


def metric(helpful: bool) -> str:
    return "votes_helpful" if helpful else "votes_unhelpful"


def record_vote(storage: Storage, slug: str, visitor: str, helpful: bool, reason: str = "", comment: str = "") -> bool:
    """Store `visitor`'s vote on `slug`, replacing their earlier one; True when it is their first on it.

    The daily counters follow the rows: a changed answer moves one count from the old metric to the
    new on the day of the first vote, so the counts always add up to the votes stored.

    Raises:
        StorageError: an unknown reason or a comment longer than MAX_COMMENT_LENGTH.
        DatabaseUnavailableError: the database cannot take the vote now.
    """
    if reason not in REASONS and reason != "":
        raise StorageError(f"reason must be one of {', '.join(REASONS)}, got {reason!r}")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise StorageError(f"the comment is {len(comment)} characters long; the limit is {MAX_COMMENT_LENGTH}")
    values = {"helpful": helpful, "reason": reason, "comment": comment, "updated_at": now()}
    mine = (VoteRow.slug == slug, VoteRow.visitor == visitor)
    for _ in range(2):  # a second try when another request inserted the same visitor's vote meanwhile
        with storage.session(write=True) as session:
            # Conditional updates: only the request that really flips the answer moves the counters.
            flipped = session.execute(update(VoteRow).where(*mine, VoteRow.helpful != helpful).values(**values))
            if flipped.rowcount:  # type: ignore[attr-defined]
                created = session.scalar(select(VoteRow.created_at).where(*mine))
                day = created.date() if isinstance(created, datetime.datetime) else None
                bump(session, metric(not helpful), slug, -1, day)
                bump(session, metric(helpful), slug, 1, day)
                return False
            kept = session.execute(update(VoteRow).where(*mine).values(**values))
            if kept.rowcount:  # type: ignore[attr-defined]
                return False
            try:
                with session.begin_nested():
                    session.add(VoteRow(slug=slug, visitor=visitor, **values))
            except IntegrityError:
                continue
            bump(session, metric(helpful), slug)
            return True
    raise StorageError(f"the vote on {slug!r} changed twice while it was being stored; send it again")


def vote_of(storage: Storage, slug: str, visitor: str) -> VoteRow | None:
    """`visitor`'s vote on `slug`, if any."""
    with storage.session() as session:
        return session.scalar(select(VoteRow).where(VoteRow.slug == slug, VoteRow.visitor == visitor))
