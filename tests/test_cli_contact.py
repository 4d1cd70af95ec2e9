"""`kb contact list | retry`: requests with their deliveries, and failed ones re-driven."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import update

from kb.store.contact import store_request
from kb.store.database import Storage
from kb.store.models import OutboxRow
from kb_cli.main import cli
from tests.kb.store.test_contact import FORM


def requests_in(tmp_path: Path) -> tuple[str, str, str]:
    """A database with a delivered, a failed and a pending request; their references."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    storage = Storage(url)
    references = tuple(
        store_request(storage, FORM, channels=["webhook"], form_token=f"form-{number}") for number in range(3)
    )
    with storage.session(write=True) as session:
        session.execute(update(OutboxRow).where(OutboxRow.request_id == 1).values(status="delivered", attempts=1))
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.request_id == 2)
            .values(status="failed", attempts=8, last_error="the webhook answered 500 Internal Server Error")
        )
    return references  # type: ignore[return-value]


def test_list_shows_each_request_and_filters_by_status(runner: CliRunner, tmp_path: Path) -> None:
    delivered, failed, pending = requests_in(tmp_path)
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    listed = runner.invoke(cli, ["contact", "list", "--database", url])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [pending, failed, delivered]
    assert [line.split("\t")[2:] for line in lines] == [
        ["pending", "webhook pending after 0 attempts", "Invoice email never arrived"],
        ["failed", "webhook failed after 8 attempts (the webhook answered 500 Internal Server Error)",
         "Invoice email never arrived"],
        ["delivered", "webhook delivered after 1 attempt", "Invoice email never arrived"],
    ]  # fmt: skip
    only_failed = runner.invoke(cli, ["contact", "list", "--status", "failed", "--database", url])
    assert [line.split("\t")[0] for line in only_failed.stdout.splitlines()] == [failed]
    none = runner.invoke(cli, ["contact", "list", "--status", "stored", "--database", url])
    assert (none.exit_code, none.stdout, none.stderr) == (0, "", "No stored contact requests.\n")


def test_retry_re_drives_one_request_or_every_failed_one(runner: CliRunner, tmp_path: Path) -> None:
    _, failed, _ = requests_in(tmp_path)
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    one = runner.invoke(cli, ["contact", "retry", failed, "--database", url])
    assert (one.exit_code, one.stdout) == (0, "1 delivery due again; a running kb serve sends them.\n")
    listed = runner.invoke(cli, ["contact", "list", "--status", "failed", "--database", url])
    assert listed.stdout == ""
    again = runner.invoke(cli, ["contact", "retry", "--all-failed", "--database", url])
    assert again.stdout == "0 deliveries due again; a running kb serve sends them.\n"
    unknown = runner.invoke(cli, ["contact", "retry", "REQ-AAAA-AAAA", "--database", url])
    assert (unknown.exit_code, unknown.stderr) == (2, "Error: no contact request with reference 'REQ-AAAA-AAAA'\n")
    neither = runner.invoke(cli, ["contact", "retry", "--database", url])
    assert (neither.exit_code, neither.stderr) == (2, "Error: name a request's reference, or --all-failed\n")
