"""`kb db purge`: delete raw logs older than the retention period; the daily counts stay."""

from __future__ import annotations

import click

from kb_cli.database_commands import database_option, database_settings

TABLES = {
    "searches": "searches",
    "search_clicks": "search result clicks",
    "contact_events": "contact form events",
    "contact_requests": "contact requests (every delivery ended)",
    "sign_in_failures": "failed sign-ins older than a day",
}


@click.command(name="purge")
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Keep this many days [env KB_RETENTION_DAYS; default 90].",
)
@database_option
def purge(dry_run: bool, days: int | None, database: str | None) -> None:
    """Delete searches, clicks, contact events and delivered contact requests older than the retention period.

    A contact request still waiting to be delivered is never deleted. Daily counts are kept.
    """
    from kb.store.data_folder import database_url
    from kb.store.database import Storage
    from kb.store.retention import purge as purge_rows

    settings = database_settings(database)
    kept_days = days or settings.retention_days
    found = purge_rows(Storage(database_url(settings)), kept_days, dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(f"{verb} rows older than {kept_days} days:")
    for table, label in TABLES.items():
        click.echo(f"  {found[table]:>8}  {label}")
