"""Special category data and coordinator notes reach only whom they may; export; erasure."""

from __future__ import annotations

import logging

from sqlalchemy import func, select, text

from api.adapters.db import Base
from api.adapters.models import Match
from tests.api.conftest import PASSWORD, assert_problem
from tests.api.test_authorization import ROLES, routes

CULTURE = "zqmarker-culture"
WELLBEING = "zqmarker-wellbeing"
NOTE = "ZQMARKER private note for coordinators"


def plant(client, world):
    """Give the owner special category data and the partner a private check-in note."""
    p = world["program"]
    owner, partner = world["people"]["owner"], world["people"]["partner"]
    r = client.patch(
        f"/api/v1/programs/{p['id']}/profile",
        json={
            "cultural_background": [CULTURE],
            "wellbeing_needs": [WELLBEING],
            "consent": {"special_category": True, "text_version": "v1"},
        },
        headers=owner["headers"],
    )
    assert r.status_code == 200, r.json
    match_id = next(
        m["id"]
        for m in client.get("/api/v1/me/matches", headers=owner["headers"]).json
        if m["my_side"] == "mentee"
    )
    for who in (owner, partner):
        r = client.post(f"/api/v1/matches/{match_id}/accept", headers=who["headers"])
        assert r.status_code == 200, r.json
    r = client.post(
        f"/api/v1/matches/{match_id}/check-ins",
        json={"rating": 2, "signal": "drained", "note": NOTE},
        headers=partner["headers"],
    )
    assert r.status_code == 201
    return match_id


def test_sensitive_fields_and_notes_reach_only_the_owner_and_coordinators(app, client, world):
    plant(client, world)
    people = world["people"]
    p = world["program"]
    sensitive_readers = {"owner", "coordinator", "admin"}
    note_readers = {"coordinator", "admin"}
    values = {
        "program_id": p["id"],
        "round_id": world["round_id"],
        "participant_id": people["owner"]["participant_id"],
    }
    checked = leaks = 0
    problems = []
    for rule, method, _policy in routes(app):
        if method != "GET" or "<int:match_id>" in rule.rule or "constraint_id" in rule.rule:
            continue
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value))
        for role in ROLES:
            headers = {} if role == "anonymous" else people[role]["headers"]
            body = client.get(path, headers=headers).get_data(as_text=True)
            checked += 1
            for marker, readers in (
                (CULTURE, sensitive_readers),
                (WELLBEING, sensitive_readers),
                (NOTE, note_readers),
            ):
                # The note's author (the partner) gets it back in their own export.
                own_note = marker == NOTE and role == "partner" and path == "/api/v1/me/export"
                if marker in body and role not in readers and not own_note:
                    leaks += 1
                    problems.append(f"{marker!r} leaked to {role} by GET {path}")
    print(f"\nread allow-list: {checked} reads checked, {leaks} leaks")
    assert not problems, "\n".join(problems)
    # The allowed readers do see them where they should.
    owner_view = client.get(
        f"/api/v1/programs/{p['id']}/profile", headers=people["owner"]["headers"]
    )
    assert CULTURE in owner_view.get_data(as_text=True)
    attention = client.get(
        f"/api/v1/programs/{p['id']}/attention", headers=people["coordinator"]["headers"]
    )
    assert NOTE in attention.get_data(as_text=True)


def test_export_holds_everything_about_the_caller_and_nothing_sensitive_of_others(client, world):
    plant(client, world)
    owner, partner = world["people"]["owner"], world["people"]["partner"]
    mine = client.get("/api/v1/me/export", headers=owner["headers"])
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "no-store"
    body = mine.json
    assert body["account"]["email"] == owner["email"]
    assert body["participations"][0]["profile"]["cultural_background"] == [CULTURE]
    assert body["participations"][0]["consent_history"][0]["text_version"] == "v1"
    assert body["matches"][0]["partner"]["participant_id"] == partner["participant_id"]
    assert body["tokens"] and "token_hash" not in mine.get_data(as_text=True)
    # The partner's export has their own note, and none of the owner's sensitive data.
    theirs = client.get("/api/v1/me/export", headers=partner["headers"])
    text_ = theirs.get_data(as_text=True)
    assert NOTE in text_ and CULTURE not in text_ and WELLBEING not in text_


def _dump(session) -> str:
    parts = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(table.select()):
            parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_erasure_removes_every_personal_value_and_keeps_anonymous_statistics(
    client, world, session
):
    p = world["program"]
    owner = world["people"]["owner"]
    match_id = plant(client, world)
    markers = {
        "display_name": "Zqmarkername Person",
        "bio": "ZQMARKERBIO my story",
        "org_unit": "ZQMARKERORG",
        "manager_email": "zqmarkermgr@example.org",
        "preferred_partners": ["zqmarkerfriend@example.org"],
    }
    client.patch(
        f"/api/v1/programs/{p['id']}/profile",
        json={k: v for k, v in markers.items() if k != "display_name"},
        headers=owner["headers"],
    )
    session.execute(
        text("UPDATE accounts SET display_name = :n WHERE id = :i"),
        {"n": markers["display_name"], "i": owner["id"]},
    )
    session.commit()
    # A coordinator's round report names unmatched people: run one that lists the owner.
    client.post(
        f"/api/v1/matches/{match_id}/end",
        json={"reason": "ZQMARKER reason"},
        headers=owner["headers"],
    )
    ch = world["people"]["coordinator"]["headers"]
    assert client.post(f"/api/v1/programs/{p['id']}/rounds", json={}, headers=ch).status_code == 202
    planted = [
        owner["email"],
        CULTURE,
        WELLBEING,
        NOTE,
        "ZQMARKER reason",
        "Zqmarkername",
        "ZQMARKERBIO",
        "ZQMARKERORG",
        "zqmarkermgr",
        "zqmarkerfriend",
    ]
    before = _dump(session)
    assert all(m in before for m in planted), [m for m in planted if m not in before]
    matches_before = session.scalar(select(func.count()).select_from(Match))

    # 403, not 401: the caller stays logged in; only the confirmation was wrong.
    wrong = assert_problem(
        client.delete("/api/v1/me", json={"password": "wrong-password"}, headers=owner["headers"]),
        403,
    )
    assert wrong["type"] == "urn:peermatch:problem:wrong-password"
    r = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=owner["headers"])
    assert r.status_code == 204
    session.expire_all()
    after = _dump(session)
    hits = {m: after.count(m) for m in planted if m in after}
    total = sum(hits.values())
    print(f"\nerasure: {len(planted)} markers planted, marker hits after erasure = {total}")
    assert hits == {}
    assert session.scalar(select(func.count()).select_from(Match)) == matches_before
    assert_problem(client.get("/api/v1/me", headers=owner["headers"]), 401)


def test_logs_of_a_full_cycle_carry_no_sensitive_values(client, world, caplog):
    with caplog.at_level(logging.DEBUG):
        match_id = plant(client, world)
        p = world["program"]
        ch = world["people"]["coordinator"]["headers"]
        client.get(f"/api/v1/programs/{p['id']}/attention", headers=ch)
        client.get(f"/api/v1/programs/{p['id']}/participants", headers=ch)
        client.post(f"/api/v1/programs/{p['id']}/rounds", json={}, headers=ch)
        client.get("/api/v1/me/export", headers=world["people"]["owner"]["headers"])
        client.post(
            f"/api/v1/matches/{match_id}/end",
            json={"reason": "done"},
            headers=world["people"]["owner"]["headers"],
        )
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    hits = sum(logged.count(m) for m in (CULTURE, WELLBEING, NOTE))
    print(f"\nlogs: {len(caplog.records)} records, marker hits = {hits}")
    assert hits == 0


def test_after_consent_is_withdrawn_the_matcher_ignores_culture_for_that_person(
    client, world, session
):
    import matcher
    from api.adapters.models import Participant
    from api.services import pool

    plant(client, world)
    p, owner = world["program"], world["people"]["owner"]
    partner_id = world["people"]["partner"]["participant_id"]

    def explain_culture():
        session.expire_all()
        mentee = pool.to_mentee(session.get(Participant, owner["participant_id"]), {}, 0.0)
        mentor = pool.to_mentor(session.get(Participant, partner_id), {}, 0, paused=False)
        # The partner prefers a shared background, so culture is not neutral while known.
        mentor = matcher.Mentor(
            **{
                **mentor.__dict__,
                "cultural_preference": "shared",
                "cultural_tags": frozenset({"other-culture"}),
            }
        )
        problem = matcher.Problem(mentees=(mentee,), mentors=(mentor,))
        return mentee.cultural_tags, matcher.explain(problem, mentee.id, partner_id).breakdown

    tags, breakdown = explain_culture()
    assert tags == frozenset({CULTURE}) and breakdown["culture"] != 0.5
    r = client.delete(f"/api/v1/programs/{p['id']}/profile/consent", headers=owner["headers"])
    assert r.status_code == 204
    tags, breakdown = explain_culture()
    assert tags == frozenset() and breakdown["culture"] == 0.5  # neutral: ignored


def test_csv_imports_are_capped_in_rows(client, world, monkeypatch):
    from api.services import csv_import
    from tests.api.test_csv_import import GOOD_ROWS, HEADER, upload

    monkeypatch.setattr(csv_import, "MAX_ROWS", 1)
    r = upload(
        client, world["program"], world["people"]["coordinator"]["headers"], HEADER + GOOD_ROWS
    )
    body = assert_problem(r, 422, "file")
    assert "At most 1 rows" in body["errors"]["file"][0]


def test_no_sensitive_marker_reaches_the_outbox_the_sent_mail_or_the_logs(
    app, client, world, session, session_factory, caplog
):
    """Special category data and check-in notes never appear in a message: not in what
    the outbox stores, not in what leaves (every part decoded), not in the logs."""
    import email
    from datetime import timedelta
    from email.policy import default
    from pathlib import Path

    from api.adapters.db import utcnow
    from api.adapters.models import OutboxMessage
    from api.http.delivery import sender
    from api.services import notify

    with caplog.at_level(logging.DEBUG):
        match_id = plant(client, world)  # consent + markers, both accept: "active" mails
        p = world["program"]
        ch = world["people"]["coordinator"]["headers"]
        # Reminders, check-in prompts and the coordinators' digest (which lists
        # attention items: the drained signal, never the note).
        with session_factory() as s:
            notify.due(s, utcnow() + timedelta(weeks=5))
        sender(app).deliver()
        client.post(f"/api/v1/programs/{p['id']}/rounds", json={}, headers=ch)
        client.post(
            f"/api/v1/matches/{match_id}/end",
            json={"reason": NOTE},  # a free-text reason is not repeated in messages either
            headers=world["people"]["owner"]["headers"],
        )
        client.post("/api/v1/password-resets", json={"email": world["people"]["owner"]["email"]})
    rows = session.scalars(select(OutboxMessage)).all()
    kinds = {m.kind for m in rows}
    assert {"proposal", "active", "check_in_due", "digest", "ended", "password_reset"} <= kinds
    assert all(m.status == "sent" for m in rows), [(m.kind, m.status, m.last_error) for m in rows]
    stored = "\n".join(f"{m.subject} {m.payload} {m.last_error}" for m in rows)
    files = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == len(rows)
    sent = []
    for f in files:
        message = email.message_from_bytes(f.read_bytes(), policy=default)
        sent.append(str(message))  # headers and the raw parts
        for part in message.walk():
            if not part.is_multipart():
                content = part.get_content()
                sent.append(content if isinstance(content, str) else content.decode())
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    mail_text = "\n".join(sent)
    # The messages did carry the partner's shareable profile (so the check has teeth).
    assert world["people"]["owner"]["email"] in mail_text
    hits = {
        where: [
            m for m in (CULTURE, WELLBEING, NOTE, "zqmarker") if m in text_.lower() or m in text_
        ]
        for where, text_ in (("outbox", stored), ("mail", mail_text), ("logs", logged))
    }
    print(f"\nmessages: {len(rows)} ({', '.join(sorted(kinds))}); marker hits: {hits}")
    assert hits == {"outbox": [], "mail": [], "logs": []}


def test_erasure_removes_the_email_from_other_peoples_profiles_in_every_program(
    client, make_program, join, mentee_profile
):
    here, elsewhere = make_program(), make_program()
    leaving = join(here, "mentee", mentee_profile)
    friend = join(here, "mentee", mentee_profile)
    stranger = join(elsewhere, "mentee", mentee_profile)  # never in the leaver's program
    email = leaving["email"]
    for person, program in ((friend, here), (stranger, elsewhere)):
        r = client.patch(
            f"/api/v1/programs/{program['id']}/profile",
            json={
                "manager_email": email.upper(),
                "preferred_partners": [email, "someone-else@example.org"],
            },
            headers=person["headers"],
        )
        assert r.status_code == 200, r.json
    r = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=leaving["headers"])
    assert r.status_code == 204
    for person, program in ((friend, here), (stranger, elsewhere)):
        body = client.get(
            f"/api/v1/programs/{program['id']}/profile", headers=person["headers"]
        ).json
        profile = body.get("profile", body)
        assert profile["manager_email"] is None, profile
        assert profile["preferred_partners"] == ["someone-else@example.org"], profile
