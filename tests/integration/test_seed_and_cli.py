"""`peermatch seed`, `create-admin` and `demo --no-serve` against the test database."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from api.adapters.models import Account, Participant, Program
from api.entrypoints import seeding
from api.services.accounts import log_in

SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_demo_program_loads_through_the_api_validation(session):
    people = json.loads((SEED_DIR / "participants.json").read_text())
    summary = seeding.seed(session, SEED_DIR)
    program = session.scalar(select(Program).where(Program.slug == "global-eng-2026"))
    assert program is not None and summary.program_created
    assert _count(session, Participant, Participant.program_id == program.id) == len(people)
    complete = _count(
        session,
        Participant,
        Participant.program_id == program.id,
        Participant.profile_completed_at.is_not(None),
    )
    assert complete == len(people) == summary.profiles_written
    mentors = _count(
        session, Participant, Participant.program_id == program.id, Participant.role == "mentor"
    )
    assert mentors >= 40
    # Consent was recorded for everyone who brought special category data.
    sensitive = [p for p in people if p["profile"].get("cultural_background")]
    emails = [p["email"] for p in sensitive]
    rows = session.scalars(select(Participant).join(Account).where(Account.email.in_(emails))).all()
    assert rows and all(r.live_consent() is not None for r in rows)


def test_seeding_twice_creates_nothing_new(session):
    seeding.seed(session, SEED_DIR)
    accounts_before = _count(session, Account)
    participants_before = _count(session, Participant)
    again = seeding.seed(session, SEED_DIR)
    assert (again.accounts_created, again.joined, again.program_created) == (0, 0, False)
    assert _count(session, Account) == accounts_before
    assert _count(session, Participant) == participants_before


def test_an_invalid_seed_record_writes_nothing(session, tmp_path):
    data = tmp_path / "seed"
    shutil.copytree(SEED_DIR, data)
    people = json.loads((data / "participants.json").read_text())
    people[3]["profile"]["timezone"] = "Atlantis/Capital"
    (data / "participants.json").write_text(json.dumps(people))
    try:
        seeding.seed(session, data)
    except seeding.SeedError as exc:
        assert "participants[3]" in str(exc) and "timezone" in str(exc)
    else:
        raise AssertionError("an invalid seed was accepted")
    assert _count(session, Account) == 0 and _count(session, Program) == 0


def test_demo_accounts_log_in_with_the_demo_password(app, session):
    seeding.seed(session, SEED_DIR)
    with app.app_context():
        token = log_in(
            session,
            email=seeding.COORDINATOR_EMAIL,
            password=seeding.DEMO_PASSWORD,
            token_ttl=timedelta(hours=1),
        )
    assert token.token


def test_create_admin_takes_the_password_from_option_or_environment(runner, session):
    result = runner.invoke(
        args=["create-admin", "--email", "Root@Example.org", "--password", "long-enough-pw"]
    )
    assert result.exit_code == 0, result.output
    assert session.scalar(select(Account.is_admin).where(Account.email == "root@example.org"))
    result = runner.invoke(
        args=["create-admin", "--email", "env@example.org"],
        env={"PEERMATCH_ADMIN_PASSWORD": "from-the-environment"},
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-admin", "--email", "x@example.org", "--password", "short"])
    assert result.exit_code != 0 and "10 characters" in result.output


def test_create_admin_prompts_when_no_password_is_given(runner, session):
    result = runner.invoke(
        args=["create-admin", "--email", "prompt@example.org"],
        input="typed-password-1\ntyped-password-1\n",
    )
    assert result.exit_code == 0, result.output
    assert session.scalar(select(Account.id).where(Account.email == "prompt@example.org"))
    # With nothing to read, it stops instead of creating an admin without a password.
    result = runner.invoke(args=["create-admin", "--email", "none@example.org"], input="")
    assert result.exit_code != 0
    assert session.scalar(select(Account.id).where(Account.email == "none@example.org")) is None


def test_the_seed_command_reports_what_it_did(runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "seeded program 'Global Engineering Peer Mentoring 2026'" in result.output
