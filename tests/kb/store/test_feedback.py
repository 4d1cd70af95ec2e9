"""Votes: one row per visitor and article under concurrent writers, changed in place, counters that add up."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from kb.errors import StorageError
from kb.store.counters import counts
from kb.store.database import Storage
from kb.store.feedback import MAX_COMMENT_LENGTH, record_vote, vote_of
from kb.store.models import VoteRow
from kb.store.privacy import today


def vote_totals(storage: Storage, slug: str) -> dict[str, int]:
    with storage.session() as session:
        return {
            metric: sum(count for _, key, count in counts(session, metric, today(), today()) if key == slug)
            for metric in ("votes_helpful", "votes_unhelpful")
        }


def test_concurrent_votes_from_threads_give_exactly_one_row_each(patient_storage: Storage) -> None:
    voters = 24
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def vote(first: int) -> None:
        barrier.wait()
        for number in range(first, voters, 8):
            try:
                record_vote(patient_storage, "reset-password", f"visitor-{number:02d}", number % 3 != 0)
            except BaseException as error:  # noqa: BLE001  # reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=vote, args=(first,)) for first in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with patient_storage.session() as session:
        assert session.scalar(select(func.count()).select_from(VoteRow)) == voters
        assert session.scalar(select(func.count(func.distinct(VoteRow.visitor)))) == voters
    assert vote_totals(patient_storage, "reset-password") == {"votes_helpful": 16, "votes_unhelpful": 8}


def test_the_same_visitor_voting_at_once_from_threads_leaves_one_row(patient_storage: Storage) -> None:
    barrier = threading.Barrier(6)

    def vote() -> None:
        barrier.wait()
        record_vote(patient_storage, "billing", "same-visitor", True)

    threads = [threading.Thread(target=vote) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with patient_storage.session() as session:
        assert session.scalar(select(func.count()).select_from(VoteRow)) == 1
    assert vote_totals(patient_storage, "billing") == {"votes_helpful": 1, "votes_unhelpful": 0}


def test_a_changed_vote_updates_the_row_in_place_and_moves_the_count(patient_storage: Storage) -> None:
    assert record_vote(patient_storage, "billing", "visitor-1", True) is True
    first = vote_of(patient_storage, "billing", "visitor-1")
    assert first is not None
    assert record_vote(patient_storage, "billing", "visitor-1", False, "outdated", "  The screens changed.  ") is False
    changed = vote_of(patient_storage, "billing", "visitor-1")
    assert changed is not None
    assert (changed.id, changed.helpful, changed.reason, changed.comment) == (
        first.id,
        False,
        "outdated",
        "The screens changed.",
    )
    assert vote_totals(patient_storage, "billing") == {"votes_helpful": 0, "votes_unhelpful": 1}
    # Adding a reason to the same answer changes no count.
    record_vote(patient_storage, "billing", "visitor-1", False, "unclear")
    assert vote_totals(patient_storage, "billing") == {"votes_helpful": 0, "votes_unhelpful": 1}
    with patient_storage.session() as session:
        assert session.scalar(select(func.count()).select_from(VoteRow)) == 1


@pytest.mark.parametrize(
    ("reason", "comment", "message"),
    [("boring", "", "reason must be one of"), ("other", "x" * (MAX_COMMENT_LENGTH + 1), "the limit is 1000")],
)
def test_bad_votes_are_refused_with_a_clear_error(tmp_path, reason: str, comment: str, message: str) -> None:  # type: ignore[no-untyped-def]
    storage = Storage(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    with pytest.raises(StorageError, match=message):
        record_vote(storage, "billing", "visitor-1", False, reason, comment)
