"""Visitors without addresses: a network address is only ever stored as a hash with the day's salt.

The salt is random, made once per day (UTC) by whichever server needs it first and shared through
the database, so every server hashes an address the same way that day; older salts are deleted, so
yesterday's hashes can no longer be matched to an address, nor to today's hashes of it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.store.models import DailySaltRow


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def daily_salt(session: Session, day: datetime.date | None = None) -> str:
    """The salt of `day` (today when None), made on first use; salts of earlier days are deleted."""
    day = day or today()
    salt = session.scalar(select(DailySaltRow.salt).where(DailySaltRow.day == day))
    if salt is not None:
        return salt
    candidate = secrets.token_hex(32)
    try:
        with session.begin_nested():  # another server may make the day's salt at the same moment
            session.add(DailySaltRow(day=day, salt=candidate))
    except IntegrityError:
        return str(session.scalar(select(DailySaltRow.salt).where(DailySaltRow.day == day)))
    session.execute(delete(DailySaltRow).where(DailySaltRow.day < day))
    return candidate


def address_hash(salt: str, address: str) -> str:
    """The address as a visitor id: 32 hex characters that name it for one day only."""
    return hmac.new(salt.encode("ascii"), address.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
