"""The health loop over simulated time: fit check, no-fault exit and rematch, quiet
matches, concerns (planted marker), load and burnout, closing surveys."""

from __future__ import annotations

import logging
from copy import deepcopy
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from api.adapters.db import utcnow
from api.adapters.models import Concern, Constraint, Match, OutboxMessage, Participant
from api.http.delivery import sender
from api.services import relationship_health, rematch
from tests.api.conftest import MENTEE_PROFILE, MENTOR_PROFILE
from tests.api.test_notifications import link, token_of
from tests.mailbox import text_of

MARKER = "ZQCONCERN planted marker"
ANNOTATION = "ZQANNOTATION coordinators only"
COMMENT = "ZQSURVEY free text for coordinators"


def _profile(base, **changes):
    out = deepcopy(base)
    out.update(changes)
    return out


@pytest.fixture
def pair(client, make_program, join, new_user, admin):
    """A program (rematch publishes) with a coordinator and one active match A-X."""
    program = make_program(
        settings={"max_capacity": 4, "default_capacity": 2, "rematch_policy": "publish"}
    )
    coordinator = new_user("Coordinator")
    r = client.post(
        f"/api/v1/programs/{program['id']}/coordinators",
        json={"email": coordinator["email"]},
        headers=admin["headers"],
    )
    assert r.status_code == 201
    a = join(program, "mentee", MENTEE_PROFILE)
    x = join(program, "mentor", _profile(MENTOR_PROFILE, capacity=1))
    base = f"/api/v1/programs/{program['id']}"
    round_id = client.post(f"{base}/rounds", json={}, headers=coordinator["headers"]).json["id"]
    r = client.post(f"{base}/rounds/{round_id}/publish", headers=coordinator["headers"])
    assert r.status_code == 200, r.json
    [match] = client.get("/api/v1/me/matches", headers=a["headers"]).json
    for who in (a, x):
        r = client.post(f"/api/v1/matches/{match['id']}/accept", headers=who["headers"])
        assert r.status_code == 200, r.json
    assert r.json["status"] == "active"
    return {
        "program": program,
        "base": base,
        "coordinator": coordinator,
        "a": a,
        "x": x,
        "match_id": match["id"],
    }


def messages(session, kind, match_id=None, account_id=None):
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)
    if match_id is not None:
        stmt = stmt.where(OutboxMessage.match_id == match_id)
    if account_id is not None:
        stmt = stmt.where(OutboxMessage.account_id == account_id)
    return session.scalar(stmt)


def night(session, when):
    """The scheduler's health step at a simulated moment (committed)."""
    found = relationship_health.due(session, when)
    session.commit()
    return found


def my_match(client, who, match_id):
    return next(
        m
        for m in client.get("/api/v1/me/matches", headers=who["headers"]).json
        if m["id"] == match_id
    )


def health_of(client, pair, match_id):
    page = client.get(f"{pair['base']}/matches", headers=pair["coordinator"]["headers"]).json
    return next(m["health"] for m in page["items"] if m["id"] == match_id)


def test_a_fit_check_is_asked_once_at_day_14_and_not_a_fit_ends_without_blame_and_rematches_first(
    client, session, join, pair
):
    start = utcnow()
    mid = pair["match_id"]
    # Day 13: nothing yet; day 14: both asked; days 15 and 20: asked once, still.
    night(session, start + timedelta(days=13))
    assert messages(session, "fit_check", mid) == 0
    assert my_match(client, pair["a"], mid)["fit_check"]["pending"] is False
    night(session, start + timedelta(days=14, hours=1))
    for day in (15, 20):
        night(session, start + timedelta(days=day))
    assert messages(session, "fit_check", mid) == 2
    assert my_match(client, pair["a"], mid)["fit_check"]["pending"] is True

    # Meanwhile mentor Y and mentees C (German only, waiting for 60 days) and D joined.
    program = pair["program"]
    y = join(program, "mentor", _profile(MENTOR_PROFILE, capacity=1, languages=["en", "de"]))
    c = join(program, "mentee", _profile(MENTEE_PROFILE, languages=["de"]))
    d = join(program, "mentee", _profile(MENTEE_PROFILE, languages=["en"]))
    session.execute(
        update(Participant)
        .where(Participant.id == c["participant_id"])
        .values(profile_completed_at=start - timedelta(days=60))
    )
    session.commit()

    # The mentor says it is not a fit and takes the exit: ended, no fault, nobody blamed.
    r = client.post(
        f"/api/v1/matches/{mid}/fit-check",
        json={"answer": "not_a_fit", "take_exit": True},
        headers=pair["x"]["headers"],
    )
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["close_reason"], r.json["closed_by"]) == (
        "ended",
        "no_fault",
        "system",
    )
    mentee_view = my_match(client, pair["a"], mid)
    assert mentee_view["close_reason"] == "no_fault" and mentee_view["closed_by"] == "system"
    forbid = session.scalar(
        select(Constraint).where(
            Constraint.mentee_id == pair["a"]["participant_id"],
            Constraint.mentor_id == pair["x"]["participant_id"],
        )
    )
    assert forbid is not None and forbid.kind == "forbid"

    # The next night: A is first (Y goes to A although C waited longer), never with X;
    # X is back in the pool and gets D.
    summary = rematch.run_in_session(session, program["id"], as_of=start + timedelta(days=21))
    assert summary.outcome == "done" and summary.published
    live = dict(
        session.execute(
            select(Match.mentee_id, Match.mentor_id).where(
                Match.program_id == program["id"], Match.status == "proposed"
            )
        ).all()
    )
    assert live[pair["a"]["participant_id"]] == y["participant_id"]
    assert live[d["participant_id"]] == pair["x"]["participant_id"]
    assert c["participant_id"] not in live


def test_without_the_exit_a_not_a_fit_puts_the_match_at_risk_and_the_exit_stays_offered(
    client, session, pair
):
    mid = pair["match_id"]
    r = client.post(f"/api/v1/matches/{mid}/no-fault-exit", headers=pair["a"]["headers"])
    assert r.status_code == 409
    r = client.post(
        f"/api/v1/matches/{mid}/fit-check",
        json={"answer": "good_fit"},
        headers=pair["a"]["headers"],
    )
    assert r.status_code == 409  # not asked yet
    night(session, utcnow() + timedelta(days=15))
    r = client.post(
        f"/api/v1/matches/{mid}/fit-check",
        json={"answer": "not_a_fit"},
        headers=pair["a"]["headers"],
    )
    assert r.status_code == 200 and r.json["status"] == "active"
    assert r.json["fit_check"] == {
        "asked_at": r.json["fit_check"]["asked_at"],
        "my_answer": "not_a_fit",
        "pending": False,
    }
    # The partner is still asked; they never see the other's answer.
    assert my_match(client, pair["x"], mid)["fit_check"]["my_answer"] is None
    assert health_of(client, pair, mid) == "at_risk"
    r = client.post(f"/api/v1/matches/{mid}/no-fault-exit", headers=pair["x"]["headers"])
    assert r.status_code == 200 and r.json["close_reason"] == "no_fault"


def test_not_met_yet_twice_marks_the_match_never_started(client, session, pair):
    mid = pair["match_id"]
    night(session, utcnow() + timedelta(days=15))
    assert health_of(client, pair, mid) == "on_track"
    for who in ("a", "x"):
        r = client.post(
            f"/api/v1/matches/{mid}/fit-check",
            json={"answer": "not_met_yet"},
            headers=pair[who]["headers"],
        )
        assert r.status_code == 200
    assert health_of(client, pair, mid) == "never_started"
    attention = client.get(f"{pair['base']}/attention", headers=pair["coordinator"]["headers"]).json
    assert [i["health"] for i in attention] == ["never_started"]
    funnel = client.get(f"{pair['base']}/funnel", headers=pair["coordinator"]["headers"]).json
    assert funnel["health"]["never_started"] == 1 and funnel["health"]["on_track"] == 0


def test_no_answer_from_both_marks_the_match_never_started(client, session, pair):
    mid = pair["match_id"]
    # Asked 15 days ago, nobody answered (the data is moved back in time).
    session.execute(
        update(Match)
        .where(Match.id == mid)
        .values(
            activated_at=utcnow() - timedelta(days=29),
            fit_check_asked_at=utcnow() - timedelta(days=15),
        )
    )
    session.commit()
    assert health_of(client, pair, mid) == "never_started"


def test_a_match_without_check_ins_for_four_weeks_is_quiet_and_gets_exactly_one_nudge(
    client, session, pair
):
    start = utcnow()
    mid = pair["match_id"]
    for week in range(1, 10):
        night(session, start + timedelta(weeks=week, hours=1))
        if week < 4:
            assert messages(session, "quiet_nudge", mid) == 0, week
    for who in ("a", "x"):
        account_id = pair[who]["id"]
        assert messages(session, "quiet_nudge", mid, account_id) == 1
    # Coordinators see it (the data moved back five weeks).
    session.execute(
        update(Match).where(Match.id == mid).values(activated_at=start - timedelta(weeks=5))
    )
    session.commit()
    assert health_of(client, pair, mid) == "quiet"
    # A check-in ends the quiet spell.
    r = client.post(
        f"/api/v1/matches/{mid}/check-ins", json={"rating": 4}, headers=pair["a"]["headers"]
    )
    assert r.status_code == 201
    assert health_of(client, pair, mid) == "on_track"


def test_a_concern_reaches_coordinators_and_no_answer_export_or_message_of_the_partner(
    app, client, session, pair, mailbox, caplog
):
    caplog.set_level(logging.DEBUG)
    mid = pair["match_id"]
    a, x, coordinator = pair["a"], pair["x"], pair["coordinator"]
    r = client.post(
        f"/api/v1/matches/{mid}/concerns",
        json={"category": "boundaries", "note": MARKER, "pause": True},
        headers=a["headers"],
    )
    assert r.status_code == 201, r.json
    concern_id = r.json["id"]
    assert r.json["status"] == "open" and r.json["note"] == MARKER
    # At once, to the coordinators: a message naming the category, not the note.
    to_coordinator = mailbox.to(coordinator["email"])
    assert len(to_coordinator) == 1
    assert "boundaries" in text_of(to_coordinator[0]) and MARKER not in text_of(to_coordinator[0])
    listed = client.get(f"{pair['base']}/concerns", headers=coordinator["headers"]).json
    assert [(c["id"], c["note"], c["category"]) for c in listed] == [
        (concern_id, MARKER, "boundaries")
    ]
    assert health_of(client, pair, mid) == "at_risk"

    # Coordinators annotate, then resolve with an outcome; the raiser sees the status.
    base = f"{pair['base']}/concerns/{concern_id}"
    r = client.patch(base, json={"coordinator_note": ANNOTATION}, headers=coordinator["headers"])
    assert r.status_code == 200 and r.json["coordinator_note"] == ANNOTATION
    r = client.patch(base, json={"status": "resolved"}, headers=coordinator["headers"])
    assert r.status_code == 422
    r = client.patch(
        base,
        json={"status": "resolved", "outcome": "relationship_resumed"},
        headers=coordinator["headers"],
    )
    assert r.status_code == 200 and r.json["status"] == "resolved"
    r = client.patch(
        base, json={"status": "resolved", "outcome": "referred"}, headers=coordinator["headers"]
    )
    assert r.status_code == 409
    mine = client.get("/api/v1/me/concerns", headers=a["headers"]).json
    assert [(c["status"], c["outcome"]) for c in mine] == [("resolved", "relationship_resumed")]
    assert ANNOTATION not in str(mine)
    assert MARKER in client.get("/api/v1/me/export", headers=a["headers"]).get_data(as_text=True)

    # The partner: no answer, export or message names it.
    for path in ("/api/v1/me/matches", "/api/v1/me/concerns", "/api/v1/me/export", "/api/v1/me"):
        body = client.get(path, headers=x["headers"]).get_data(as_text=True)
        for secret in (MARKER, ANNOTATION, "boundaries", '"category"'):
            assert secret not in body, (path, secret)
    night(session, utcnow() + timedelta(weeks=6))
    sender(app).deliver()
    for message in mailbox.to(x["email"]):
        assert MARKER not in message.as_string() and "concern" not in message.as_string().lower()
    for raw in mailbox.raw:
        assert MARKER.encode() not in raw and ANNOTATION.encode() not in raw
    assert not [r for r in caplog.records if MARKER in r.getMessage()]


def test_resolved_concerns_are_deleted_after_the_programs_retention(client, session, pair):
    mid = pair["match_id"]
    r = client.post(
        f"/api/v1/matches/{mid}/concerns",
        json={"category": "workload"},
        headers=pair["x"]["headers"],
    )
    cid = r.json["id"]
    r = client.patch(
        f"{pair['base']}/concerns/{cid}",
        json={"status": "resolved", "outcome": "no_action_needed"},
        headers=pair["coordinator"]["headers"],
    )
    assert r.status_code == 200
    night(session, utcnow() + timedelta(days=364))
    assert session.get(Concern, cid, populate_existing=True) is not None
    assert night(session, utcnow() + timedelta(days=366)).concerns_purged == 1
    session.expire_all()
    assert session.get(Concern, cid) is None


def test_two_stretched_signals_ask_exactly_one_capacity_question_whose_link_lowers_it(
    app, client, session, pair, mailbox
):
    mid, x = pair["match_id"], pair["x"]
    for _ in range(3):
        r = client.post(
            f"/api/v1/matches/{mid}/check-ins",
            json={"rating": 3, "signal": "stretched"},
            headers=x["headers"],
        )
        assert r.status_code == 201
    assert messages(session, "capacity_question", account_id=x["id"]) == 1
    [question] = [m for m in mailbox.to(x["email"]) if "fewer mentees" in m["Subject"]]
    path = link(question, "capacity")
    page = client.get(path)
    assert page.status_code == 200 and "Lower my capacity to 0" in page.get_data(as_text=True)
    r = client.post("/pages/capacity", data={"token": token_of(path)})
    assert r.status_code == 200
    assert session.get(Participant, x["participant_id"], populate_existing=True).capacity == 0
    assert client.post("/pages/capacity", data={"token": token_of(path)}).status_code == 410
    funnel = client.get(f"{pair['base']}/funnel", headers=pair["coordinator"]["headers"]).json
    assert funnel["load"] == {
        "stretched_mentors": 1,
        "drained_mentors": 0,
        "capacity_questions": 1,
    }


def test_a_drained_mentor_is_left_out_tells_coordinators_and_can_resume(client, session, pair):
    mid, x = pair["match_id"], pair["x"]
    r = client.post(
        f"/api/v1/matches/{mid}/check-ins",
        json={"rating": 2, "signal": "drained"},
        headers=x["headers"],
    )
    assert r.status_code == 201
    assert messages(session, "mentor_drained", account_id=pair["coordinator"]["id"]) == 1
    coordinator = pair["coordinator"]["headers"]
    assert (
        client.get(f"{pair['base']}/funnel", headers=coordinator).json["load"]["drained_mentors"]
        == 1
    )
    assert [
        i["health"] for i in client.get(f"{pair['base']}/attention", headers=coordinator).json
    ] == ["at_risk"]
    assert rematch._drained_mentors(session, pair["program"]["id"]) == {x["participant_id"]}
    r = client.post(f"{pair['base']}/profile/resume", headers=x["headers"])
    assert r.status_code == 200, r.json
    assert rematch._drained_mentors(session, pair["program"]["id"]) == set()
    assert (
        client.get(f"{pair['base']}/funnel", headers=coordinator).json["load"]["drained_mentors"]
        == 0
    )


def test_an_ended_match_asks_both_a_closing_survey_and_the_report_aggregates_it(
    client, session, pair
):
    mid, a, x = pair["match_id"], pair["a"], pair["x"]
    coordinator = pair["coordinator"]["headers"]
    r = client.post(
        f"/api/v1/matches/{mid}/survey", json={"goals": 4, "recommend": 5}, headers=a["headers"]
    )
    assert r.status_code == 409  # still active
    r = client.post(f"/api/v1/matches/{mid}/end", json={"reason": "done"}, headers=a["headers"])
    assert r.status_code == 200
    assert messages(session, "closing_survey", mid) == 2
    assert my_match(client, a, mid)["survey_pending"] is True
    r = client.post(
        f"/api/v1/matches/{mid}/survey",
        json={"goals": 4, "recommend": 5, "comment": COMMENT},
        headers=a["headers"],
    )
    assert r.status_code == 201, r.json
    again = client.post(
        f"/api/v1/matches/{mid}/survey", json={"goals": 1, "recommend": 1}, headers=a["headers"]
    )
    assert again.status_code == 409
    assert my_match(client, a, mid)["survey_pending"] is False
    assert my_match(client, x, mid)["survey_pending"] is True
    report = client.get(f"{pair['base']}/surveys/report", headers=coordinator).json
    assert report["ended_matches"] == 1 and report["asked"] == 2 and report["responses"] == 1
    assert report["response_rate"] == 0.5
    assert report["goals"]["mean"] == 4 and report["goals"]["distribution"]["4"] == 1
    assert report["recommend"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    csv_ = client.get(f"{pair['base']}/surveys.csv", headers=coordinator)
    assert csv_.mimetype == "text/csv" and COMMENT in csv_.get_data(as_text=True)
    # Free text is the coordinators': the partner never sees it; the author's export has it.
    assert COMMENT not in client.get("/api/v1/me/export", headers=x["headers"]).get_data(
        as_text=True
    )
    assert COMMENT in client.get("/api/v1/me/export", headers=a["headers"]).get_data(as_text=True)


def test_erasing_an_account_erases_its_concern_notes_and_survey_comments(client, session, pair):
    from tests.api.conftest import PASSWORD

    mid, a = pair["match_id"], pair["a"]
    r = client.post(
        f"/api/v1/matches/{mid}/concerns",
        json={"category": "other", "note": MARKER},
        headers=a["headers"],
    )
    cid = r.json["id"]
    client.post(f"/api/v1/matches/{mid}/end", json={"reason": "done"}, headers=a["headers"])
    client.post(
        f"/api/v1/matches/{mid}/survey",
        json={"goals": 3, "recommend": 3, "comment": COMMENT},
        headers=pair["x"]["headers"],
    )
    r = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=a["headers"])
    assert r.status_code == 204, r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Concern, cid).note == ""
    coordinator = pair["coordinator"]["headers"]
    assert COMMENT not in client.get(f"{pair['base']}/surveys.csv", headers=coordinator).get_data(
        as_text=True
    )
