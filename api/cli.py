"""The `peermatch` command: Flask's CLI on the app factory, plus our commands."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from api import db, migrate


def _create_app() -> Flask:
    from api import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
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
    with db.database().engine.connect() as conn:
        current = migrate.current_revision(conn)
    click.echo(f"current: {current or 'none'}\nhead:    {migrate.head_revision()}")


@click.command("create-admin")
@with_appcontext
@click.option("--email", required=True)
@click.option(
    "--password",
    envvar="PEERMATCH_ADMIN_PASSWORD",
    help="Or set PEERMATCH_ADMIN_PASSWORD; prompted for when neither is given.",
)
@click.option("--name", "display_name", default="Administrator", show_default=True)
def create_admin(email: str, password: str | None, display_name: str) -> None:
    """Create a platform admin (or promote an existing account)."""
    from api.errors import ApiError
    from api.services import accounts

    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.BadParameter("must be at least 10 characters", param_hint="--password")
    try:
        account = accounts.create_admin(
            db.session(), email=email, password=password, display_name=display_name
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
    from api.services import seeding

    try:
        summary = seeding.seed(db.session(), seeding.resolve_dir(data_dir))
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
    from api.services import seeding

    url = current_app.config["DATABASE_URL"]
    migrate.upgrade(url)
    click.echo(f"database migrated: {url}")
    try:
        summary = seeding.seed(db.session(), seeding.resolve_dir(None))
    except seeding.SeedError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.describe())
    _demo_round()
    base = f"http://{host}:{port}"
    click.echo(
        f"\nAPI:      {base}/api/v1\nDocs:     {base}/api/docs\n"
        f"OpenAPI:  {base}/api/openapi.json\n"
        f"Log in as the coordinator: {seeding.COORDINATOR_EMAIL} / {seeding.DEMO_PASSWORD}\n"
        f"or as any participant in seed_data/participants.json with the same password.\n"
    )
    if no_serve:
        return
    from werkzeug.serving import run_simple

    # Werkzeug's server is enough for a local demo; production runs gunicorn (README).
    run_simple(host, port, current_app._get_current_object(), threaded=True)


def _demo_round() -> None:
    """Run the demo program's first matching round, so there is something to review."""
    from sqlalchemy import select

    from api.models import Account, Program, Round
    from api.services import rounds, seeding

    session = db.session()
    coordinator = session.scalar(select(Account).where(Account.email == seeding.COORDINATOR_EMAIL))
    program = session.scalar(select(Program).where(Program.join_code == "DEMO-2026"))
    if coordinator is None or program is None:
        return
    existing = session.scalar(select(Round).where(Round.program_id == program.id).limit(1))
    if existing is not None:
        click.echo(f"matching rounds exist already (see /api/v1/programs/{program.id}/rounds)")
        return
    round_ = rounds.start(session, coordinator, program.id, {})
    done = rounds.execute(session, round_.id)
    if done is None or done.status != "proposed":
        click.echo("the demo round did not finish; see the round's error")
        return
    stats = done.stats or {}
    click.echo(
        f"matching round {done.id}: {stats.get('matched_count')} of "
        f"{stats.get('mentee_count')} mentees matched, mean score "
        f"{stats.get('mean_score')}, {stats.get('blocking_pairs')} blocking pairs; review it "
        f"at /api/v1/programs/{program.id}/rounds/{done.id}/matches"
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker for matching rounds (needs REDIS_URL)."""
    from api import jobs

    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        raise click.ClickException("REDIS_URL is not set; without it jobs run inline.")
    jobs.work(redis_url, burst)


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
    from api.services import rematch as service

    summaries = service.run(
        db.database().engine, program_id=program_id, dry_run=dry_run, as_of=_as_of(as_of)
    )
    if not summaries:
        click.echo("no program has its rematch policy on")
    for summary in summaries:
        click.echo(summary.describe())
    if any(s.outcome == "failed" for s in summaries):
        raise SystemExit(1)


@click.command("scheduler")
@click.option(
    "--cron",
    envvar="REMATCH_CRON",
    default="30 2 * * *",
    show_default=True,
    help="When the nightly rematch runs (cron syntax, server time); env REMATCH_CRON.",
)
@with_appcontext
def scheduler(cron: str) -> None:
    """Enqueue the nightly rematch on schedule (RQ cron; workers run it)."""
    from api import jobs

    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        raise click.ClickException("REDIS_URL is not set; use cron with `peermatch rematch`.")
    jobs.schedule_rematch(redis_url, cron)


def init_app(app: Flask) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(rematch)
    app.cli.add_command(scheduler)
    app.cli.add_command(db_group)
    app.cli.add_command(create_admin)
    app.cli.add_command(seed)
    app.cli.add_command(demo)
