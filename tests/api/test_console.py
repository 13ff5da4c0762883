"""The coordinator console over HTTP: log-in, CSRF, headers, who sees what, and the
round, match and import workflows through its forms (tests/api/test_console_browser.py
drives the same in a real browser)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from api.adapters.models import Constraint, Match, Participant, Round, RoundPair, Token
from tests.api.conftest import PASSWORD
from tests.api.console import Console, csrf_of, logged_in
from tests.api.test_csv_import import GOOD_ROWS, HEADER
from tests.api.test_limits import limited_app


def _coordinator(app, world) -> Console:
    return logged_in(app, world["people"]["coordinator"]["email"])


def _p(world) -> str:
    return f"/console/programs/{world['program']['id']}"


def _pages(world) -> list[str]:
    p, people = _p(world), world["people"]
    return [
        "/console/",
        p,
        f"{p}/participants",
        f"{p}/participants?role=mentee&status=active",
        f"{p}/participants/{people['owner']['participant_id']}",
        f"{p}/participants/import",
        f"{p}/rounds",
        f"{p}/rounds/{world['round_id']}",
        f"{p}/rounds/{world['round_id']}?sort=mentor",
        f"{p}/matches",
        f"{p}/matches?show=all",
    ]


def test_logging_in_sets_a_cookie_scripts_cannot_read_sent_over_https_only(app, world):
    console = Console(app)
    page = console.get("/console/login")
    assert page.status_code == 200 and 'type="password"' in page.text
    r = console.client.post(
        "/console/login",
        data={
            "email": world["people"]["coordinator"]["email"],
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert r.status_code == 303 and r.headers["Location"] == "/console/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


def test_a_wrong_password_is_refused_and_the_next_page_is_never_another_site(app, world):
    console = Console(app)
    token = csrf_of(console.get("/console/login").text)
    r = console.client.post(
        "/console/login",
        data={
            "email": world["people"]["coordinator"]["email"],
            "password": "wrong-password",
            "csrf_token": token,
        },
    )
    assert r.status_code == 401 and "The email or password is wrong." in r.text
    r = console.client.post(
        "/console/login",
        data={
            "email": world["people"]["coordinator"]["email"],
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/console/",
        },
    )
    assert r.status_code == 303 and r.headers["Location"] == "/console/"
    # Opening a page logged out leads to the log-in form, and back there afterwards.
    anonymous = Console(app)
    r = anonymous.get(_p(world))
    assert r.status_code == 302 and r.headers["Location"].startswith("/console/login?next=")


def test_logging_out_revokes_the_token_so_a_copied_cookie_stops_working(app, world, session):
    console = _coordinator(app, world)
    kept = console.client.get_cookie("session")
    assert console.get(_p(world)).status_code == 200
    r = console.post("/console/logout")
    assert r.status_code == 303 and r.headers["Location"] == "/console/login"
    console.client.set_cookie("session", kept.value)
    r = console.get(_p(world))
    assert r.status_code == 302 and r.headers["Location"].startswith("/console/login")
    account_id = world["people"]["coordinator"]["id"]
    revoked = session.scalars(select(Token.revoked_at).where(Token.account_id == account_id))
    assert any(at is not None for at in revoked)


def test_a_form_without_this_sessions_csrf_token_changes_nothing(app, world, session):
    console = _coordinator(app, world)
    other = _coordinator(app, world)
    before = session.scalar(select(func.count()).select_from(Round))
    for token in ("", other.csrf):
        r = console.client.post(f"{_p(world)}/rounds", data={"csrf_token": token})
        assert r.status_code == 400 and "The form expired" in r.text
    assert session.scalar(select(func.count()).select_from(Round)) == before
    assert console.post(f"{_p(world)}/rounds").status_code == 303


def test_every_page_has_a_strict_csp_no_framing_and_nothing_inline(app, world):
    console = _coordinator(app, world)
    for path in [*_pages(world), "/console/login"]:
        r = console.get(path)
        assert r.status_code == 200, path
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, path
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Cache-Control"] == "no-store"
        html = r.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html), path
        assert 'name="csrf_token"' in html or path == "/console/login?" or "<form" not in html


def test_participants_and_other_coordinators_cannot_open_a_programs_pages(app, world):
    people = world["people"]
    for role, status in (
        ("owner", 403),
        ("partner", 403),
        ("participant_elsewhere", 404),
        ("coordinator_elsewhere", 404),
    ):
        console = logged_in(app, people[role]["email"])
        for path in _pages(world)[1:]:
            assert console.get(path).status_code == status, (role, path)
        assert console.post(f"{_p(world)}/rounds").status_code == status


def test_special_category_data_is_shown_to_coordinators_only(app, client, world):
    owner = world["people"]["owner"]
    r = client.patch(
        f"/api/v1/programs/{world['program']['id']}/profile",
        json={
            "cultural_background": ["zz-marker-culture"],
            "wellbeing_needs": ["zz-marker-wellbeing"],
            "consent": {"special_category": True, "text_version": "2026-01"},
        },
        headers=owner["headers"],
    )
    assert r.status_code == 200, r.json
    profile = f"{_p(world)}/participants/{owner['participant_id']}"
    shown = _coordinator(app, world).get(profile).text
    assert "zz-marker-culture" in shown and "zz-marker-wellbeing" in shown
    # Whatever a participant can open of the console shows none of it.
    participant = logged_in(app, owner["email"])
    for path in ["/console/", "/console/login", *_pages(world)]:
        r = participant.get(path)
        assert "zz-marker" not in r.text, path
    # Nor does any page of the round or match views a coordinator sees (only the profile).
    coordinator = _coordinator(app, world)
    for path in _pages(world):
        if path != profile:
            assert "zz-marker" not in coordinator.get(path).text, path


def _pair_ids(session, round_id):
    return set(
        session.execute(
            select(RoundPair.mentee_id, RoundPair.mentor_id).where(RoundPair.round_id == round_id)
        ).all()
    )


def _latest_round(session, program_id) -> Round:
    return session.scalars(
        select(Round).where(Round.program_id == program_id).order_by(Round.id.desc())
    ).first()


def test_a_coordinator_starts_reviews_forbids_reruns_and_publishes_a_round(
    app, world, session, join, mentee_profile, mentor_profile
):
    program = world["program"]
    join(program, "mentee", mentee_profile)
    join(program, "mentor", mentor_profile)
    console = _coordinator(app, world)
    r = console.post(f"{_p(world)}/rounds", {"objective": "fair", "min_overlap_minutes": "30"})
    assert r.status_code == 303
    first = _latest_round(session, program["id"])
    assert first.parameters["objective"] == "fair"
    assert first.parameters["min_overlap_minutes"] == 30
    review = console.get(r.headers["Location"])
    assert review.status_code == 200
    assert "Scores of the pairs" in review.text and "Mentor load" in review.text
    assert 'id="blocking-pairs"' in review.text and "<details>" in review.text
    by_mentee = console.get(f"{r.headers['Location']}?sort=mentee").text
    names = re.findall(r'<tr id="pair-\d+"[^>]*>\s*<td>([^<]+)</td>', by_mentee)
    assert len(names) == len(_pair_ids(session, first.id)) and names == sorted(names, key=str.lower)
    mentee_id, mentor_id = sorted(_pair_ids(session, first.id))[0]
    r = console.post(
        f"{_p(world)}/constraints",
        {
            "kind": "forbid",
            "mentee_id": mentee_id,
            "mentor_id": mentor_id,
            "next": r.headers["Location"],
        },
    )
    assert r.status_code == 303 and r.headers["Location"] == f"{_p(world)}/rounds/{first.id}"
    assert "no round pairs them any more" in console.get(r.headers["Location"]).text
    assert session.scalar(select(Constraint).where(Constraint.kind == "forbid")) is not None
    r = console.post(f"{_p(world)}/rounds", {"objective": "fair"})
    second = _latest_round(session, program["id"])
    assert second.id != first.id and (mentee_id, mentor_id) not in _pair_ids(session, second.id)
    confirm = console.get(f"{_p(world)}/rounds/{second.id}/publish")
    assert "become proposals" in confirm.text and 'id="publish-confirm"' in confirm.text
    assert (
        session.scalar(select(func.count()).select_from(Match).where(Match.round_id == second.id))
        == 0
    )  # the confirmation page changes nothing
    r = console.post(f"{_p(world)}/rounds/{second.id}/publish")
    assert r.status_code == 303 and r.headers["Location"] == f"{_p(world)}/matches"
    assert "is published" in console.get(r.headers["Location"]).text
    session.expire_all()
    assert session.get(Round, second.id).status == "published"
    r = console.post(f"{_p(world)}/rounds/{first.id}/discard")
    assert r.status_code == 303
    session.expire_all()
    assert session.get(Round, first.id).status == "discarded"


def test_a_coordinator_cancels_a_proposal_with_a_reason_and_needs_one(app, world, session):
    console = _coordinator(app, world)
    match = session.scalar(select(Match).where(Match.round_id == world["round_id"]))
    url = f"{_p(world)}/matches/{match.id}/cancel"
    r = console.post(url, {"reason": "  "})
    assert r.status_code == 422 and "reason" in r.text
    session.refresh(match)
    assert match.status == "proposed"
    r = console.post(url, {"reason": "the mentor moved away"})
    assert r.status_code == 303
    assert "is cancelled" in console.get(r.headers["Location"]).text
    session.refresh(match)
    assert match.status == "cancelled" and match.closed_by == "coordinator"
    # A second cancel is refused with the status the first left.
    r = console.post(url, {"reason": "again"})
    assert r.status_code == 409 and "cancelled" in r.text


def test_an_import_with_one_bad_row_shows_its_errors_next_to_it_and_imports_nothing(
    app, world, session
):
    console = _coordinator(app, world)
    bad = 'cy@example.org,Cy,mentee,,,,en,Mars/Base,"tue 10:00-11:00",2,,,,,open\n'
    before = session.scalar(select(func.count()).select_from(Participant))
    import io

    r = console.post(
        f"{_p(world)}/participants/import",
        {"file": (io.BytesIO((HEADER + GOOD_ROWS + bad).encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    row = re.search(r'<tr class="bad">(.*?)</tr>', r.text, re.S).group(1)
    assert '<th scope="row">4</th>' in row and "cy@example.org" in row and "timezone" in row
    assert r.text.count('class="bad"') == 1
    assert session.scalar(select(func.count()).select_from(Participant)) == before
    r = console.post(
        f"{_p(world)}/participants/import",
        {"file": (io.BytesIO((HEADER + GOOD_ROWS).encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303
    assert "2 new" in console.get(r.headers["Location"]).text


def test_a_running_round_shows_progress_that_polls_until_the_review(app, world, session):
    from api.services import round_runs

    console = _coordinator(app, world)
    coordinator = session.get(
        __import__("api.adapters.models", fromlist=["Account"]).Account,
        world["people"]["coordinator"]["id"],
    )
    queued = round_runs.start(session, coordinator, world["program"]["id"], {}, max_round_size=100)
    page = console.get(f"{_p(world)}/rounds/{queued.id}")
    assert "<progress" in page.text and 'hx-trigger="every 2s"' in page.text
    poll = f"{_p(world)}/rounds/{queued.id}/progress"
    assert console.get(poll, headers={"HX-Request": "true"}).status_code == 200
    round_runs.execute(session, queued.id)
    r = console.get(poll, headers={"HX-Request": "true"})
    assert r.headers["HX-Redirect"] == f"{_p(world)}/rounds/{queued.id}"
    assert console.get(poll).status_code == 303
    assert "Review of round" in console.get(f"{_p(world)}/rounds/{queued.id}").text


def test_the_console_and_the_api_count_failed_log_ins_together(engine, session_factory):
    app = limited_app(engine, session_factory)
    client = app.test_client()
    body = {"email": "victim@example.org", "password": "guess-guess-1"}
    assert [client.post("/api/v1/tokens", json=body).status_code for _ in range(2)] == [401] * 2
    console = Console(app)
    token = csrf_of(console.get("/console/login").text)
    r = console.client.post("/console/login", data={**body, "csrf_token": token})
    assert r.status_code == 401
    r = console.client.post("/console/login", data={**body, "csrf_token": token})
    # The failures of this account from this address, whichever way they came.
    assert r.status_code == 429 and "Too many failed log-ins" in r.text


def test_the_attention_list_on_the_program_home_ends_a_match_that_needs_it(
    app, client, world, session
):
    people = world["people"]
    match = session.scalar(
        select(Match).where(
            Match.round_id == world["round_id"],
            Match.mentee_id == people["owner"]["participant_id"],
        )
    )
    for side in ("owner", "partner"):
        r = client.post(f"/api/v1/matches/{match.id}/accept", headers=people[side]["headers"])
        assert r.status_code == 200, r.json
    r = client.post(
        f"/api/v1/matches/{match.id}/check-ins",
        json={"rating": 1, "signal": "drained", "note": "zz-private-note"},
        headers=people["owner"]["headers"],
    )
    assert r.status_code == 201, r.json
    console = _coordinator(app, world)
    home = console.get(_p(world)).text
    attention = home.split('id="attention-h"')[1]
    assert "low rating" in attention and "mentee drained" in attention
    assert "zz-private-note" not in home
    assert f'action="{_p(world)}/matches/{match.id}/end"' in attention
    r = console.post(
        f"{_p(world)}/matches/{match.id}/end", {"reason": "the mentee asked", "next": _p(world)}
    )
    assert r.status_code == 303 and r.headers["Location"] == _p(world)
    after = console.get(_p(world)).text
    assert "is ended" in after and "No active relationship needs attention." in after
    session.refresh(match)
    assert match.status == "ended" and match.close_reason == "the mentee asked"
