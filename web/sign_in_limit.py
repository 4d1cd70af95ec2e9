"""The sign-in limit: failed attempts per address, counted where every server worker sees them."""

from __future__ import annotations

import datetime
from typing import Protocol

from werkzeug.exceptions import TooManyRequests

from kb.config import Settings
from kb.errors import ConfigError
from kb.store.database import Storage

WINDOW = datetime.timedelta(minutes=1)


class FailedSignIns(Protocol):
    """Where failed sign-ins are counted."""

    def exhausted(self, address: str) -> bool:
        """Whether `address` has used up its failed sign-ins of the window."""
        ...

    def record(self, address: str) -> None:
        """Count one failed sign-in from `address`."""
        ...


class DatabaseFailedSignIns:
    """Counted in the agents database, which every worker and server of a help center shares."""

    def __init__(self, storage: Storage, most: int) -> None:
        self.storage = storage
        self.most = most

    def exhausted(self, address: str) -> bool:
        return self.storage.sign_in_failures(address, WINDOW) >= self.most

    def record(self, address: str) -> None:
        self.storage.record_sign_in_failure(address, WINDOW)


class LimitsFailedSignIns:
    """Counted in a `limits` storage such as Redis (`memory://` counts in each worker alone)."""

    def __init__(self, uri: str, most: int) -> None:
        from limits import RateLimitItemPerMinute
        from limits.errors import ConfigurationError
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        try:
            self.limiter = MovingWindowRateLimiter(storage_from_string(uri))
        except (ConfigurationError, NotImplementedError) as error:
            raise ConfigError(f"KB_RATE_LIMIT_STORAGE {uri!r} cannot count sign-in failures: {error}") from None
        self.item = RateLimitItemPerMinute(most)

    def exhausted(self, address: str) -> bool:
        return not self.limiter.test(self.item, "kb-sign-in-failures", address)

    def record(self, address: str) -> None:
        self.limiter.hit(self.item, "kb-sign-in-failures", address)


def failed_sign_ins(settings: Settings, storage: Storage) -> FailedSignIns:
    """The counter the settings ask for: in a `limits` storage when one is named, else in the database."""
    most = settings.sign_in_attempts_per_minute
    if settings.rate_limit_storage:
        return LimitsFailedSignIns(settings.rate_limit_storage, most)
    return DatabaseFailedSignIns(storage, most)


def refuse_when_exhausted(counter: FailedSignIns, address: str) -> None:
    """Checked before the password, so that once the limit is reached a guess learns nothing, right or wrong."""
    if counter.exhausted(address):
        raise TooManyRequests(
            "Too many failed sign-ins from your address: wait a minute before trying again.",
            retry_after=int(WINDOW.total_seconds()),
        )
