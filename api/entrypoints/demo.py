"""`peermatch demo`: migrate, seed the demo program, run its first round, serve locally."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, run_simple

from api.adapters import migrate
from api.adapters.models import Account, Program, Round
from api.entrypoints import seeding
from api.http import context, database
from api.services import round_runs


def run(app: Flask, host: str, port: int, serve: bool) -> None:
    url = app.config["DATABASE_URL"]
    migrate.upgrade(url)
    click.echo(f"database migrated: {url}")
    try:
        summary = seeding.seed(database.session(), seeding.resolve_dir(None))
    except seeding.SeedError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.describe())
    _first_round()
    base = f"http://{host}:{port}"
    # The demo serves plain HTTP on this machine: the console's cookie cannot be Secure.
    app.config["SESSION_COOKIE_SECURE"] = False
    click.echo(
        f"\nConsole:  {base}/console/\n"
        f"API:      {base}/api/v1\nDocs:     {base}/api/docs\n"
        f"OpenAPI:  {base}/api/openapi.json\n"
        f"Log in as the coordinator: {seeding.COORDINATOR_EMAIL} / {seeding.DEMO_PASSWORD}\n"
        f"or as any participant in seed_data/participants.json with the same password.\n"
        f"{_mail_note(app)}\n"
    )
    if serve:
        # Werkzeug's server is enough for a local demo; production runs gunicorn (README).
        run_simple(host, port, app, threaded=True, request_handler=_PathOnlyLog)


class _PathOnlyLog(WSGIRequestHandler):
    """Werkzeug's request log without query strings (message links carry tokens there)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)


def _first_round() -> None:
    """Run the demo program's first matching round, so there is something to review."""
    session = database.session()
    coordinator = session.scalar(select(Account).where(Account.email == seeding.COORDINATOR_EMAIL))
    program = session.scalar(select(Program).where(Program.join_code == seeding.DEMO_JOIN_CODE))
    if coordinator is None or program is None:
        return
    existing = session.scalar(select(Round).where(Round.program_id == program.id).limit(1))
    if existing is not None:
        click.echo(f"matching rounds exist already (see /api/v1/programs/{program.id}/rounds)")
        return
    round_ = round_runs.start(
        session, coordinator, program.id, {}, max_round_size=context.max_round_size()
    )
    done = round_runs.execute(session, round_.id)
    if done is None or done.status != "proposed":
        click.echo("the demo round did not finish; see the round's error")
        return
    stats = done.stats or {}
    click.echo(
        f"matching round {done.id}: {stats.get('matched_count')} of "
        f"{stats.get('mentee_count')} mentees matched, mean score "
        f"{stats.get('mean_score')}, {stats.get('blocking_pairs')} blocking pairs; review it "
        f"at /api/v1/programs/{program.id}/rounds/{done.id}/pairs"
    )


def _mail_note(app: Flask) -> str:
    """Where the demo's messages go (invitations, proposals, resets ...)."""
    if app.config.get("SMTP_URL"):
        return "Messages: sent through the SMTP server of SMTP_URL (`peermatch outbox` lists them)."
    return (
        f"Messages: no SMTP_URL set, so every message is written as an .eml file to\n"
        f"          {app.config['OUTBOX_DIR']} (open one with a mail program;\n"
        f"          `peermatch outbox` lists them). Publish the round to see the proposals."
    )
