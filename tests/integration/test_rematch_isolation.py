"""The nightly rematch treats each program as its own unit: one that cannot run (a round
stuck in it, a setting that does not parse, a publish landing during the run) is
recorded as a failed rematch run of that program and in the exit status, and every other
program is still rematched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from api.adapters.db import utcnow
from api.adapters.models import Match, Program, Round, RoundPair
from api.http import database as db
from api.services import events, rematch
from api.synthetic import program as synthetic
from tests.integration.test_rematch import admin, engine, live  # noqa: F401  (fixture)

NIGHT = utcnow() + timedelta(hours=1)


def _programs(n: int) -> list[int]:
    s = db.session()
    ids = [
        synthetic.generate(s, 30, 10, seed=40 + i, settings={"rematch_policy": "publish"})
        for i in range(n)
    ]
    s.commit()
    return ids


def _cli_rematch(live, *args: str):  # noqa: F811
    db.session().commit()  # end the test's read transaction (SQLite)
    return live.test_cli_runner().invoke(
        args=["rematch", "--as-of", NIGHT.isoformat(), *args], catch_exceptions=False
    )


def _runs(program_id: int) -> list[rematch.RematchRun]:
    db.session().expire_all()
    return rematch.runs(db.session(), admin(), program_id)


def test_a_stuck_round_and_a_bad_setting_fail_their_own_programs_and_the_others_run(
    live,  # noqa: F811
):
    stuck, bad, fine = _programs(3)
    s = db.session()
    running = Round(
        program_id=stuck,
        status="running",
        parameters={},
        attempts=1,
        lease_expires_at=utcnow() + timedelta(minutes=10),  # its runner is alive
    )
    s.add(running)
    program = s.get(Program, bad)
    program.settings = dict(program.settings) | {"objective": "greedy"}
    s.commit()
    running_id = running.id

    result = _cli_rematch(live)
    assert result.exit_code == 1, result.output
    out = result.output
    assert f"program {stuck} " in out and f"round {running_id} of the program is running" in out
    assert f"program {bad} " in out and "a matching setting of the program is not valid" in out
    assert f"program {fine} " in out and ": done" in out

    [stuck_run] = _runs(stuck)
    assert stuck_run.status == "failed" and stuck_run.night == NIGHT.date().isoformat()
    assert stuck_run.summary["outcome"] == "failed"
    assert f"round {running_id}" in stuck_run.summary["detail"]
    assert _runs(bad)[0].status == "failed"
    [fine_run] = _runs(fine)
    assert fine_run.status == "published" and fine_run.summary["matched"] > 0

    # Once the stuck round's runner is gone (its lease lapsed), the same night runs: the
    # failure record does not count as the night done.
    s.get(Round, running_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    s.commit()
    result = _cli_rematch(live, "--program", str(stuck))
    assert result.exit_code == 0, result.output
    assert ": done" in result.output
    s.expire_all()
    assert s.get(Round, running_id).status == "failed"  # inline: failed as lost
    assert [r.status for r in _runs(stuck)] == ["published", "failed"]


def test_a_publish_landing_during_the_rematch_fails_only_that_program(live):  # noqa: F811
    first, second = _programs(2)

    def publish_meanwhile(session, event):
        # A coordinator's publish commits a proposal for one of the people this rematch
        # is about to propose: the rematch's own publish then conflicts with it.
        if event.program_id != first:
            return
        pair = session.scalars(
            select(RoundPair).where(RoundPair.round_id == event.entity_id).limit(1)
        ).one()
        session.add(
            Match(
                program_id=first,
                round_id=event.entity_id,
                mentee_id=pair.mentee_id,
                mentor_id=pair.mentor_id,
                score=pair.score,
                expires_at=utcnow() + timedelta(days=7),
            )
        )
        session.flush()

    events.subscribe("round.publish", publish_meanwhile)
    try:
        result = _cli_rematch(live)
    finally:
        events.unsubscribe("round.publish", publish_meanwhile)
    assert result.exit_code == 1, result.output
    assert "the program changed while its rematch ran" in result.output
    [failed] = _runs(first)
    assert failed.status == "failed"
    assert "peermatch rematch --program" in failed.summary["detail"]
    # Nothing of the failed program's night was kept; the other one was rematched.
    assert db.session().scalars(select(Match).where(Match.program_id == first)).all() == []
    [done] = _runs(second)
    assert done.status == "published"
