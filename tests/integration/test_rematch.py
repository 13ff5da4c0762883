"""The nightly rematch on a real database (it opens its own transactions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.adapters import migrate
from api.adapters.db import utcnow
from api.adapters.models import Account, CheckIn, Match, Participant, ParticipantTag, Program, Round
from api.domain.settings import ProgramSettings
from api.entrypoints import seeding
from api.entrypoints.cli import create_app
from api.http import database as db
from api.services import publishing, rematch, round_runs

WINDOW = [{"day": "tue", "start": "10:00", "end": "13:00"}]


@pytest.fixture
def live(empty_database_url):
    migrate.upgrade(empty_database_url)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": empty_database_url,
            "REDIS_URL": None,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        yield app
        db.session().close()
        db.database().engine.dispose()


def engine():
    # End the test's own read transaction: on SQLite an open reader blocks the rematch's
    # commit. (Evaluate other arguments, like `program.id`, before calling this.)
    db.session().commit()
    return db.database().engine


def admin() -> Account:
    s = db.session()
    account = s.scalar(select(Account).where(Account.email == "rematch-admin@example.org"))
    if account is None:
        account = Account(
            email="rematch-admin@example.org", display_name="A", password_hash="", is_admin=True
        )
        s.add(account)
        s.commit()
    return account


def seed_demo(policy="publish") -> int:
    s = db.session()
    seeding.seed(s, seeding.resolve_dir(None))
    program = s.scalar(select(Program))
    program.settings = dict(program.settings) | {"rematch_policy": policy}
    s.commit()
    return program.id


def publish_round(program_id: int) -> Round:
    s = db.session()
    round_ = round_runs.start(s, admin(), program_id, {}, max_round_size=20000)
    round_ = round_runs.execute(s, round_.id)
    publishing.publish(s, admin(), program_id, round_.id, None)
    return round_


def live_matches(program_id: int) -> dict[int, int]:
    s = db.session()
    s.expire_all()
    rows = s.execute(
        select(Match.mentee_id, Match.mentor_id).where(
            Match.program_id == program_id, Match.status.in_(("proposed", "accepted", "active"))
        )
    ).all()
    return dict(rows)


def counts() -> tuple[int, int, int]:
    s = db.session()
    s.expire_all()
    return (
        s.scalar(select(func.count()).select_from(Round)),
        s.scalar(select(func.count()).select_from(Match)),
        s.scalar(select(func.count()).select_from(Match).where(Match.status == "expired")),
    )


def test_declines_and_ends_are_repaired_and_never_with_a_previous_partner(live):
    s = db.session()
    program = Program(
        name="Small",
        slug="small",
        join_code="SMALL-1",
        taxonomy=["python", "rust"],
        settings={"rematch_policy": "publish"},
    )
    s.add(program)
    s.flush()
    # Each mentee has a best mentor (shared need) and a second choice.
    best_py = _person(s, program, "py@example.org", "mentor", strengths=["python"], capacity=1)
    best_rs = _person(s, program, "rs@example.org", "mentor", strengths=["rust"], capacity=1)
    spare = _person(s, program, "spare@example.org", "mentor", strengths=[], capacity=2)
    decliner = _person(s, program, "m1@example.org", "mentee", needs=["python"])
    ender = _person(s, program, "m2@example.org", "mentee", needs=["rust"])
    s.commit()
    program_id = program.id
    publish_round(program_id)
    assert live_matches(program_id) == {decliner.id: best_py.id, ender.id: best_rs.id}
    by_mentee = {m.mentee_id: m for m in s.scalars(select(Match))}
    declined, ended = by_mentee[decliner.id], by_mentee[ender.id]
    declined.status, declined.closed_at, declined.closed_by = "declined", utcnow(), "mentee"
    ended.status, ended.activated_at = "ended", utcnow() - timedelta(days=30)
    ended.closed_at, ended.closed_by = utcnow(), "mentor"
    s.commit()

    [summary] = rematch.run(engine(), program_id=program_id, as_of=utcnow() + timedelta(hours=1))
    assert summary.outcome == "done" and summary.published, summary.describe()
    assert summary.pool_mentees == 2 and summary.matched == 2
    # Both are re-paired, neither with their previous partner.
    now_live = live_matches(program_id)
    assert now_live[decliner.id] != best_py.id and now_live[ender.id] != best_rs.id
    # Each later night expires the proposals and offers someone new, until nobody is left.
    nights = [
        rematch.run(engine(), program_id=program_id, as_of=utcnow() + timedelta(days=d))[0]
        for d in (9, 18)
    ]
    assert [n.expired for n in nights] == [2, 2]
    assert nights[-1].matched == 0 and nights[-1].still_waiting == {"no_feasible_mentor": 2}
    pairs = s.execute(select(Match.mentee_id, Match.mentor_id)).all()
    assert len(pairs) == len(set(pairs)) == 6  # three partners each, never one twice
    assert spare.id in {mentor for _, mentor in pairs}


def test_expired_proposals_expire_and_are_offered_someone_else(live):
    program_id = seed_demo()
    publish_round(program_id)
    before = live_matches(program_id)
    [summary] = rematch.run(engine(), as_of=utcnow() + timedelta(days=8))
    assert summary.outcome == "done", summary.describe()
    assert summary.expired == len(before)
    after = live_matches(program_id)
    assert after and all(after[m] != before.get(m) for m in after)


def test_a_drained_or_paused_mentor_gets_no_one_new(live):
    program_id = seed_demo()
    publish_round(program_id)
    s = db.session()
    first, second = s.scalars(select(Match).order_by(Match.id).limit(2)).all()
    first.status, first.activated_at = "active", utcnow()
    s.add(
        CheckIn(
            match_id=first.id,
            author_id=first.mentor_id,
            author_side="mentor",
            rating=3,
            signal="drained",
        )
    )
    s.get(Participant, second.mentor_id).status = "paused"
    s.commit()
    drained, paused = first.mentor_id, second.mentor_id
    [summary] = rematch.run(engine(), as_of=utcnow() + timedelta(days=8))
    assert drained in summary.drained_mentors
    new = s.scalars(select(Match).where(Match.round_id == summary.round_id)).all()
    assert new and not {m.mentor_id for m in new} & {drained, paused}


def _person(s, program, email, role, *, needs=(), strengths=(), capacity=None, waited_days=0):
    account = Account(email=email, display_name=email.split("@")[0], password_hash="")
    p = Participant(
        program=program,
        account=account,
        role=role,
        languages=["en"],
        timezone="UTC",
        availability=WINDOW,
        experience_level=4 if role == "mentor" else 2,
        capacity=capacity,
        profile_completed_at=utcnow() - timedelta(days=waited_days),
    )
    p.tags = [ParticipantTag(kind="need", tag=t, weight=3) for t in needs] + [
        ParticipantTag(kind="strength", tag=t, weight=3) for t in strengths
    ]
    s.add(p)
    s.flush()
    return p


def test_with_a_strong_waiting_priority_the_longest_waiting_mentee_is_served_first(live):
    s = db.session()
    program = Program(
        name="Scarce",
        slug="scarce",
        join_code="SCARCE-1",
        taxonomy=["python", "rust"],
        # A queue; the default, tie_break, would give the mentor the better fit.
        settings={"rematch_policy": "publish", "waiting_priority": "strong"},
    )
    s.add(program)
    s.flush()
    _person(s, program, "mentor@example.org", "mentor", strengths=["python"], capacity=1)
    # The newcomer fits the mentor better, but the other one has waited 40 days.
    newcomer = _person(s, program, "new@example.org", "mentee", needs=["python"], waited_days=1)
    waiting = _person(s, program, "old@example.org", "mentee", needs=["rust"], waited_days=40)
    s.commit()
    [summary] = rematch.run(engine(), program_id=program.id)
    assert summary.matched == 1
    assert set(live_matches(program.id)) == {waiting.id}
    assert newcomer.id not in live_matches(program.id)


def test_a_mentee_who_declined_twice_in_a_row_is_deprioritised_for_one_run(live):
    program_id = seed_demo()
    publish_round(program_id)
    s = db.session()
    match = s.scalars(select(Match).order_by(Match.id).limit(1)).one()
    mentee = match.mentee_id
    base = utcnow()
    for k, m in enumerate([match]):
        m.status, m.closed_at, m.closed_by = "declined", base + timedelta(minutes=k), "mentee"
    # A second proposal, declined too.
    other = Match(
        program_id=program_id,
        round_id=match.round_id,
        mentee_id=mentee,
        mentor_id=match.mentor_id,
        score=0.1,
        breakdown={},
        status="declined",
        proposed_at=base,
        expires_at=base + timedelta(days=7),
        closed_at=base + timedelta(minutes=5),
        closed_by="mentee",
    )
    other.round_id = round_runs.queue(
        s, s.get(Program, program_id), ProgramSettings(), created_by=None
    ).id
    s.get(Round, other.round_id).status = "discarded"
    s.add(other)
    s.commit()
    [first] = rematch.run(engine(), as_of=base + timedelta(hours=1))
    assert mentee in first.deprioritised
    [second] = rematch.run(engine(), as_of=base + timedelta(days=1, hours=1))
    assert mentee not in second.deprioritised  # one run only


def test_a_dry_run_writes_nothing(live):
    seed_demo()
    publish_round(db.session().scalar(select(Program.id)))
    before = counts()
    result = live.test_cli_runner().invoke(
        args=["rematch", "--dry-run", "--as-of", (utcnow() + timedelta(days=8)).isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert "dry_run" in result.output and "expired proposals:" in result.output
    assert counts() == before


def test_a_second_run_of_the_same_night_changes_nothing(live):
    program_id = seed_demo()
    publish_round(program_id)
    # Midday, so that thirty minutes later is still the same night (date).
    night = (utcnow() + timedelta(days=8)).replace(hour=12, minute=0)
    [first] = rematch.run(engine(), as_of=night)
    after_first = counts()
    [second] = rematch.run(engine(), as_of=night + timedelta(minutes=30))
    assert (first.outcome, second.outcome) == ("done", "already_done")
    assert counts() == after_first


def test_programs_with_the_policy_off_are_skipped_unless_named(live):
    program_id = seed_demo(policy="off")
    assert rematch.run(engine()) == []
    [summary] = rematch.run(engine(), program_id=program_id)
    assert summary.outcome == "done" and not summary.published  # policy off: left proposed


def test_coordinators_see_past_runs(live):
    program_id = seed_demo(policy="propose")
    rematch.run(engine(), as_of=utcnow())
    client = live.test_client()
    r = client.post(
        "/api/v1/tokens",
        json={"email": seeding.COORDINATOR_EMAIL, "password": seeding.DEMO_PASSWORD},
    )
    h = {"Authorization": f"Bearer {r.json['token']}"}
    runs = client.get(f"/api/v1/programs/{program_id}/rematch-runs", headers=h).json
    assert len(runs) == 1 and runs[0]["status"] == "proposed"
    assert runs[0]["summary"]["pool_mentees"] > 0
    assert "still_waiting" in runs[0]["summary"]


@pytest.mark.parametrize("priority", ["tie_break", "strong", "none"])
@pytest.mark.parametrize("objective", ["max_participation", "max_score", "fair", "stable"])
def test_a_mentee_whose_proposal_the_mentor_never_answered_is_matched_first(
    live, objective, priority
):
    s = db.session()
    program = Program(
        name="Unanswered",
        slug=f"unanswered-{objective}-{priority}",
        join_code=f"UNANS-{objective[:6].upper()}-{priority[:4].upper()}",
        taxonomy=["python", "rust"],
        settings={
            "rematch_policy": "publish",
            "objective": objective,
            "waiting_priority": priority,
        },
    )
    s.add(program)
    s.flush()
    silent = _person(s, program, "silent@example.org", "mentor", strengths=["rust"], capacity=1)
    other = _person(s, program, "other@example.org", "mentor", strengths=["python"], capacity=1)
    # She accepted a proposal eight days ago; the mentor never answered, so it expired.
    left = _person(s, program, "left@example.org", "mentee", needs=["rust"], waited_days=10)
    # He joined yesterday and fits the only free mentor better.
    newcomer = _person(s, program, "new@example.org", "mentee", needs=["python"], waited_days=1)
    now = utcnow()
    round_id = round_runs.queue(s, program, ProgramSettings(), created_by=None).id
    s.get(Round, round_id).status = "discarded"
    s.add(
        Match(
            program_id=program.id,
            round_id=round_id,
            mentee_id=left.id,
            mentor_id=silent.id,
            score=0.5,
            breakdown={},
            status="expired",
            proposed_at=now - timedelta(days=8),
            expires_at=now - timedelta(hours=1),
            mentee_accepted_at=now - timedelta(days=7),
            closed_at=now - timedelta(hours=1),
            closed_by="system",
        )
    )
    silent.status = "paused"  # the mentor who never answered gets nobody tonight
    s.commit()
    [summary] = rematch.run(engine(), program_id=program.id, as_of=now)
    assert summary.matched_first == [left.id]
    assert live_matches(program.id) == {left.id: other.id}
    assert newcomer.id not in live_matches(program.id)
