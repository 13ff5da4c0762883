"""A partner cannot infer the other's special category data from why they were matched.

The same pair is matched three times, the mentor's cultural background the only thing
that differs (shares the mentee's tag, another tag, no consent at all): the culture
criterion then scores 0.75 / 0.25 / 0.5 for coordinators. Everything a partner can get
(their matches, their export, the messages they are sent) must be identical across the
three and hold no culture value and no planted marker.
"""

from __future__ import annotations

import re
from pathlib import Path

MARK = "zqmarker-heritage"


def _pair(client, admin, make_program, join, new_user, mentee_profile, mentor_profile, variant):
    program = make_program()
    coordinator = new_user("Coordinator")
    r = client.post(
        f"/api/v1/programs/{program['id']}/coordinators",
        json={"email": coordinator["email"]},
        headers=admin["headers"],
    )
    assert r.status_code == 201
    consent = {"special_category": True, "text_version": "v1"}
    mentee = join(
        program,
        "mentee",
        mentee_profile
        | {"cultural_preference": "shared", "cultural_background": [MARK], "consent": consent},
    )
    extra = {
        "shared": {"cultural_background": [MARK], "consent": consent},
        "different": {"cultural_background": ["zqother-tag"], "consent": consent},
        "no consent": {},
    }[variant]
    mentor = join(program, "mentor", mentor_profile | extra)
    ch = coordinator["headers"]
    r = client.post(f"/api/v1/programs/{program['id']}/rounds", json={}, headers=ch)
    assert r.status_code == 202, r.json
    r = client.post(f"/api/v1/programs/{program['id']}/rounds/{r.json['id']}/publish", headers=ch)
    assert r.status_code == 200, r.json
    return program, coordinator, mentee, mentor, r.json["id"]


def test_no_answer_a_partner_gets_carries_the_culture_criterion_or_the_marker(
    client, admin, make_program, join, new_user, mentee_profile, mentor_profile, tmp_path
):
    seen: dict[str, list] = {}
    coordinator_culture = {}
    for variant in ("shared", "different", "no consent"):
        program, coordinator, mentee, mentor, round_id = _pair(
            client, admin, make_program, join, new_user, mentee_profile, mentor_profile, variant
        )
        views = []
        for person in (mentee, mentor):
            (match,) = client.get("/api/v1/me/matches", headers=person["headers"]).json
            export = client.get("/api/v1/me/export", headers=person["headers"]).json
            # (The export also holds the caller's own profile, their own data.)
            for answer in (match, export["matches"]):
                text = str(answer)
                assert "culture" not in text and MARK not in text and "zqother" not in text
            views.append(match["why"])
            views.append([m["why"] for m in export["matches"]])
        seen[variant] = views
        # Coordinators keep the whole breakdown: the planted data does matter.
        r = client.get(
            f"/api/v1/programs/{program['id']}/rounds/{round_id}/pairs",
            headers=coordinator["headers"],
        )
        assert r.status_code == 200, r.json
        coordinator_culture[variant] = r.json["items"][0]["breakdown"]["culture"]
    assert len(set(coordinator_culture.values())) == 3, coordinator_culture
    # Nothing a partner sees differs with the other's cultural data or consent.
    assert seen["shared"] == seen["different"] == seen["no consent"]
    # The messages they were sent (proposals show a score): the same, and no marker.
    outbox = Path(tmp_path / "outbox")
    texts = [p.read_text(errors="replace") for p in outbox.rglob("*.eml")]
    assert texts and not any(MARK in t or "culture" in t.lower() for t in texts)
    scores = {m for t in texts for m in re.findall(r"score (\d+) %", t)}
    assert len(scores) == 1, scores


def test_a_decline_reason_is_seen_by_its_author_and_coordinators_not_the_partner(client, world):
    people = world["people"]
    owner, partner = people["owner"]["headers"], people["partner"]["headers"]
    match = client.get("/api/v1/me/matches", headers=owner).json[0]
    reason = "ZQMARKER I would rather not say this to them"
    r = client.post(
        f"/api/v1/matches/{match['id']}/decline", json={"reason": reason}, headers=owner
    )
    assert r.status_code == 200 and r.json["close_reason"] == reason
    seen_by_partner = next(
        m for m in client.get("/api/v1/me/matches", headers=partner).json if m["id"] == match["id"]
    )
    assert seen_by_partner["status"] == "declined" and seen_by_partner["close_reason"] is None
    assert reason not in str(client.get("/api/v1/me/export", headers=partner).json)
    r = client.get(
        f"/api/v1/programs/{world['program']['id']}/matches",
        headers=people["coordinator"]["headers"],
    )
    assert reason in str(r.json)
