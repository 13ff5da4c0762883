"""The full matching cycle, driven over HTTP; shared by the inline and the worker tests."""

from __future__ import annotations

import csv
import io

from tests.api.conftest import assert_problem


def start_round(client, demo, **overrides):
    r = client.post(
        f"/api/v1/programs/{demo['program_id']}/rounds", json=overrides, headers=demo["coordinator"]
    )
    assert r.status_code == 202, r.json
    assert r.headers["Location"].endswith(f"/rounds/{r.json['id']}")
    return r.json


def pairs_of(client, demo, round_id, **query):
    r = client.get(
        f"/api/v1/programs/{demo['program_id']}/rounds/{round_id}/matches",
        query_string={"limit": 200} | query,
        headers=demo["coordinator"],
    )
    assert r.status_code == 200, r.json
    return r.json


def run_full_cycle(client, demo, drain=lambda: None):
    """Run → review → forbid → re-run → publish → accept/decline → check-in → report.

    `drain` runs queued rounds when a worker does the work (no-op when inline).
    """
    base = f"/api/v1/programs/{demo['program_id']}"
    h = demo["coordinator"]

    # Run: the round is proposed with statistics and progress at 100 %.
    first = start_round(client, demo)
    drain()
    round_ = client.get(f"{base}/rounds/{first['id']}", headers=h).json
    assert round_["status"] == "proposed"
    assert round_["progress"] == {"phase": "proposed", "percent": 100.0}
    assert round_["parameters"]["objective"] == "max_participation"
    stats = round_["stats"]
    assert 0 < stats["matched_count"] <= stats["mentee_count"]

    # Review: pairs sorted by score, with explanations; unmatched with reasons; report.
    page = pairs_of(client, demo, first["id"])
    scores = [p["score"] for p in page["items"]]
    assert scores == sorted(scores, reverse=True) and page["total"] == stats["matched_count"]
    top = page["items"][0]
    assert set(top["breakdown"]) == {
        "needs",
        "availability",
        "language",
        "culture",
        "experience",
        "preference",
    }
    assert top["shared_languages"]
    weakest = pairs_of(client, demo, first["id"], sort="score", limit=1)["items"][0]
    assert weakest["score"] == min(scores)
    unmatched = client.get(f"{base}/rounds/{first['id']}/unmatched", headers=h).json
    assert len(unmatched) == stats["mentee_count"] - stats["matched_count"]
    assert {u["reason"] for u in unmatched} <= {"no_feasible_mentor", "capacity_taken"}
    report = client.get(f"{base}/rounds/{first['id']}/report", headers=h).json
    assert isinstance(report["stats"]["blocking_pairs"], int)
    assert report["stats"]["mentor_load"]["histogram"]
    assert sum(report["unmatched_by_reason"].values()) == len(unmatched)

    # Adjust: forbid the top pair, re-run; the pair is gone.
    mentee_id, mentor_id = top["mentee"]["participant_id"], top["mentor"]["participant_id"]
    r = client.post(
        f"{base}/constraints",
        json={"kind": "forbid", "mentee_id": mentee_id, "mentor_id": mentor_id},
        headers=h,
    )
    assert r.status_code == 201
    second = start_round(client, demo)
    drain()
    second_pairs = pairs_of(client, demo, second["id"])["items"]
    assert (mentee_id, mentor_id) not in {
        (p["mentee"]["participant_id"], p["mentor"]["participant_id"]) for p in second_pairs
    }
    assert client.post(f"{base}/rounds/{first['id']}/discard", headers=h).json["status"] == (
        "discarded"
    )

    # Publish: once; a second publish and publishing the discarded round are conflicts.
    r = client.post(f"{base}/rounds/{second['id']}/publish", headers=h)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "published" and r.json["matches_created"] == len(second_pairs)
    assert_problem(client.post(f"{base}/rounds/{second['id']}/publish", headers=h), 409)
    assert_problem(client.post(f"{base}/rounds/{first['id']}/publish", headers=h), 409)

    # Participants: both sides accept one match; a mentee declines another.
    accepted, declined = second_pairs[0], second_pairs[1]
    mentee_h = demo["login"](demo["email_of"][accepted["mentee"]["participant_id"]])
    mentor_h = demo["login"](demo["email_of"][accepted["mentor"]["participant_id"]])
    mine = [
        m
        for m in client.get("/api/v1/me/matches", headers=mentee_h).json
        if m["my_side"] == "mentee"
    ]
    assert len(mine) == 1 and mine[0]["status"] == "proposed"
    partner = mine[0]["partner"]
    assert partner["participant_id"] == accepted["mentor"]["participant_id"]
    assert "cultural_background" not in partner and "wellbeing_needs" not in partner
    # Partners see the criteria that rest on no special category data (issue 16).
    shown = {k: v for k, v in accepted["breakdown"].items() if k != "culture"}
    assert mine[0]["why"]["breakdown"] == shown
    match_id = mine[0]["id"]
    r = client.post(f"/api/v1/matches/{match_id}/accept", headers=mentee_h)
    assert (
        r.json["status"] == "accepted" and r.json["i_accepted"] and not r.json["partner_accepted"]
    )
    r = client.post(f"/api/v1/matches/{match_id}/accept", headers=mentor_h)
    assert r.json["status"] == "active" and r.json["activated_at"]

    decliner_h = demo["login"](demo["email_of"][declined["mentee"]["participant_id"]])
    other_id = next(
        m["id"]
        for m in client.get("/api/v1/me/matches", headers=decliner_h).json
        if m["my_side"] == "mentee"
    )
    r = client.post(
        f"/api/v1/matches/{other_id}/decline",
        json={"reason": "Times do not suit"},
        headers=decliner_h,
    )
    assert r.json["status"] == "declined" and r.json["closed_by"] == "mentee"
    assert_problem(client.post(f"/api/v1/matches/{other_id}/accept", headers=decliner_h), 409)

    # Check-in: a drained mentor and a low rating put the match on the attention list.
    r = client.post(
        f"/api/v1/matches/{match_id}/check-ins",
        json={"rating": 2, "signal": "drained", "note": "Too many late calls."},
        headers=mentor_h,
    )
    assert r.status_code == 201
    attention = client.get(f"{base}/attention", headers=h).json
    flagged = {a["match_id"]: a for a in attention}
    assert set(flagged[match_id]["reasons"]) >= {"low_rating", "mentor_drained"}
    assert flagged[match_id]["check_ins"][0]["note"] == "Too many late calls."
    # The note is for coordinators: the partner's view of the match does not carry it.
    assert "Too many late calls." not in client.get("/api/v1/me/matches", headers=mentee_h).text

    # Report and export of the published round.
    report = client.get(f"{base}/rounds/{second['id']}/report", headers=h).json
    assert report["status"] == "published"
    r = client.get(f"{base}/rounds/{second['id']}/matches.csv", headers=h)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == len(second_pairs)
    statuses = {int(row["mentee_id"]): row["match_status"] for row in rows}
    assert statuses[accepted["mentee"]["participant_id"]] == "active"
    assert statuses[declined["mentee"]["participant_id"]] == "declined"

    # Ending the relationship.
    r = client.post(
        f"/api/v1/matches/{match_id}/end", json={"reason": "Goals met"}, headers=mentee_h
    )
    assert r.json["status"] == "ended" and r.json["close_reason"] == "Goals met"
