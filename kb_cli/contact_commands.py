"""`kb contact list | retry`: the contact requests customers sent, and re-driving their delivery."""

from __future__ import annotations

import click

from kb_cli.database_commands import agent_storage, database_option


@click.group()
def contact() -> None:
    """Contact requests: see how their delivery stands, and send the failed ones again."""


@contact.command(name="list")
@click.option(
    "--status",
    type=click.Choice(["pending", "delivered", "failed", "stored"]),
    default=None,
    help="Only requests whose delivery stands so (stored: no channel was configured when it was sent).",
)
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True, help="Most requests shown.")
@database_option
def contact_list(status: str | None, limit: int, database: str | None) -> None:
    """Requests newest first: reference, time, status, each channel's attempts and last error, subject."""
    from kb.store.contact import contact_requests

    found = contact_requests(agent_storage(database), status, limit)
    if not found:
        click.echo(f"No {status + ' ' if status else ''}contact requests.", err=True)
    for request in found:
        channels = ", ".join(
            f"{channel} {state} after {attempts} attempt{'' if attempts == 1 else 's'}"
            + (f" ({error})" if error and state != "delivered" else "")
            for channel, state, attempts, error in request.deliveries
        )
        click.echo(
            f"{request.reference}\t{request.created_at:%Y-%m-%d %H:%M}\t{request.status}\t"
            f"{channels or 'no channel'}\t{request.subject}"
        )


@contact.command(name="retry")
@click.argument("reference", required=False)
@click.option("--all-failed", is_flag=True, help="Re-drive every failed delivery instead of one request's.")
@database_option
def contact_retry(reference: str | None, all_failed: bool, database: str | None) -> None:
    """Make REFERENCE's undelivered channels (or with --all-failed every failed one) due now, with fresh attempts.

    A running `kb serve` sends them within seconds; its delivery worker does the sending, never this command.
    """
    from kb.errors import StorageError
    from kb.store.contact import retry_requests

    if reference and all_failed:
        raise StorageError("name a request's reference or --all-failed, not both")
    count = retry_requests(agent_storage(database), reference, all_failed)
    click.echo(f"{count} deliver{'y' if count == 1 else 'ies'} due again; a running kb serve sends them.")
