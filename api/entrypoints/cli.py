"""The `peermatch` command: Flask's CLI on the app factory, plus our commands."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from api import config
from api.adapters import migrate
from api.domain.vocabulary import OutboxStatus, values
from api.entrypoints import demo as demo_module
from api.entrypoints import scheduler as scheduler_module
from api.entrypoints import seeding
from api.entrypoints import worker as worker_module
from api.errors import ApiError
from api.http import app as http_app
from api.http import context, database
from api.http import delivery as http_delivery
from api.services import accounts
from api.services import notify as notify_service
from api.services import outbox as outbox_service
from api.services import rematch as rematch_service


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app with peermatch's commands on its CLI (what `peermatch` runs)."""
    app = http_app.create_app(config)
    register(app)
    return app


@click.group(cls=FlaskGroup, create_app=create_app)
def main() -> None:
    """peermatch: peer-mentoring matching service."""


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1, or base)."""
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_group.command("current")
def db_current() -> None:
    """Show the database's revision and the latest one."""
    with database.database().engine.connect() as conn:
        current = migrate.current_revision(conn)
    click.echo(f"current: {current or 'none'}\nhead:    {migrate.head_revision()}")


@click.command("create-admin")
@with_appcontext
@click.option("--email", required=True)
@click.option(
    "--password", help="Or set PEERMATCH_ADMIN_PASSWORD; prompted for when neither is given."
)
@click.option("--name", "display_name", default="Administrator", show_default=True)
def create_admin(email: str, password: str | None, display_name: str) -> None:
    """Create a platform admin (or promote an existing account)."""
    password = password or config.admin_password()
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    assert password is not None
    if len(password) < 10:
        raise click.BadParameter("must be at least 10 characters", param_hint="--password")
    try:
        account = accounts.create_admin(
            database.session(), email=email, password=password, display_name=display_name
        )
    except ApiError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"admin {account.email} (id {account.id}) ready")


@click.command("seed")
@with_appcontext
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Folder with program.json and participants.json (default: seed_data/).",
)
def seed(data_dir: str | None) -> None:
    """Load the demo program idempotently, through the API's validation."""
    try:
        summary = seeding.seed(database.session(), seeding.resolve_dir(data_dir))
    except seeding.SeedError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.describe())


@click.command("demo")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Migrate and seed, then exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Migrate the database, seed the demo program and serve the API on localhost."""
    demo_module.run(current_app._get_current_object(), host, port, serve=not no_serve)  # type: ignore[attr-defined]


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker for matching rounds (needs REDIS_URL)."""
    jobs = context.round_queue()
    if jobs is None:
        raise click.ClickException("REDIS_URL is not set; without it jobs run inline.")
    worker_module.work(jobs, burst)


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-26T02:30:00+00:00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command("rematch")
@click.option("--program", "program_id", type=int, help="Only this program (policy or not).")
@click.option("--dry-run", is_flag=True, help="Print what would happen; write nothing.")
@click.option("--as-of", "as_of", help="The moment to act as of (ISO 8601; default now).")
@with_appcontext
def rematch(program_id: int | None, dry_run: bool, as_of: str | None) -> None:
    """Expire stale proposals and re-pair waiting mentees (the nightly job)."""
    summaries = rematch_service.run(
        database.database().engine,
        program_id=program_id,
        dry_run=dry_run,
        as_of=_as_of(as_of),
        runners=context.runners(),
    )
    if not summaries:
        click.echo("no program has its rematch policy on")
    for summary in summaries:
        click.echo(summary.describe())
    if not dry_run:
        _deliver_now()
    if any(s.outcome == "failed" for s in summaries):
        raise SystemExit(1)


@click.command("scheduler")
@click.option(
    "--cron",
    default=None,
    help="When the nightly rematch runs (cron syntax, server time); default REMATCH_CRON.",
)
@with_appcontext
def scheduler(cron: str | None) -> None:
    """Enqueue the nightly rematch on schedule (RQ cron; workers run it)."""
    jobs = context.round_queue()
    if jobs is None:
        raise click.ClickException("REDIS_URL is not set; use cron with `peermatch rematch`.")
    scheduler_module.schedule_rematch(
        jobs,
        cron or current_app.config["REMATCH_CRON"],
        notify_cron=current_app.config["NOTIFY_CRON"],
        sweep_seconds=current_app.config["OUTBOX_SWEEP_SECONDS"],
        lease_seconds=current_app.config["ROUND_LEASE_SECONDS"],
    )


def _deliver_now() -> None:
    """Hand due messages to delivery: a worker job with REDIS_URL, here otherwise."""
    jobs = context.round_queue()
    if jobs is not None:
        jobs.enqueue_delivery()
        click.echo("delivery job queued for the workers")
        return
    if current_app.config.get("OUTBOX_INLINE") == "off":
        click.echo("messages wait for `peermatch outbox deliver` (OUTBOX_INLINE=off)")
        return
    report = http_delivery.sender().deliver()
    if report is not None:
        click.echo(report.describe())


@click.group("outbox", cls=AppGroup, invoke_without_command=True)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(values(OutboxStatus)),
    help="Only messages in this status (repeatable).",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.pass_context
@with_appcontext
def outbox_group(ctx: click.Context, statuses: tuple[str, ...], limit: int) -> None:
    """List the notification outbox, newest first (ids, kinds, statuses; no bodies)."""
    if ctx.invoked_subcommand is not None:
        return
    session = database.session()
    counts = outbox_service.counts(session)
    click.echo("outbox: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "empty"))
    rows = outbox_service.listing(session, statuses, limit)
    if rows:
        click.echo(
            f"{'id':>7} {'status':<8} {'kind':<17} {'account':>7} {'tries':>5} "
            f"{'created (UTC)':<16} {'sent (UTC)':<16} subject / last error"
        )
    for m in rows:
        click.echo(
            f"{m.id:>7} {m.status:<8} {m.kind:<17} {m.account_id:>7} {m.attempts:>5} "
            f"{m.created_at:%Y-%m-%d %H:%M} "
            f"{(f'{m.sent_at:%Y-%m-%d %H:%M}' if m.sent_at else '-'):<16} "
            f"{m.subject or '-'}{f'  [{m.last_error}]' if m.last_error else ''}"
        )


@outbox_group.command("deliver")
def outbox_deliver() -> None:
    """Deliver what is due now (retries included)."""
    _deliver_now()


@click.command("notify")
@click.option("--due", is_flag=True, required=True, help="Find and send what is due now.")
@click.option("--as-of", "as_of", help="The moment to act as of (ISO 8601; default now).")
@with_appcontext
def notify(due: bool, as_of: str | None) -> None:
    """Reminders, check-in prompts and digests that are due (idempotent per period)."""
    found = notify_service.due(database.session(), _as_of(as_of))
    click.echo(found.describe())
    _deliver_now()


COMMANDS = (worker, rematch, scheduler, db_group, create_admin, seed, demo, outbox_group, notify)


def register(app: Flask) -> None:
    """Add peermatch's commands to the app's CLI."""
    for command in COMMANDS:
        app.cli.add_command(command)
