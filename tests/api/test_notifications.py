"""Messages reach people exactly when they should, through a real SMTP server.

The app sends through an aiosmtpd server in this process (127.0.0.1); the tests read
what arrived and follow its links as a person would.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from sqlalchemy import func, select, update

from api.adapters.db import utcnow
from api.adapters.models import Account, LinkToken, Match, OutboxMessage, Participant
from api.entrypoints import seeding
from api.http.delivery import sender
from api.services import notify, round_runs
from tests.api.conftest import PASSWORD, assert_problem, auth
from tests.mailbox import html_of, text_of

LINK = re.compile(r"http://127\.0\.0\.1:5000(/pages/[a-z-]+\?[^\s\"<>]+)")


def links_in(message) -> list[str]:
    """The page links of a message, as paths a test client opens."""
    return sorted(set(LINK.findall(text_of(message))))


def link(message, kind: str, choice: str | None = None) -> str:
    for path in LINK.findall(text_of(message)):
        if path.startswith(f"/pages/{kind}") and (choice is None or f"choice={choice}" in path):
            return path.replace("&amp;", "&")
    raise AssertionError(f"no {kind} link in: {text_of(message)}")


def token_of(path: str) -> str:
    return parse_qs(urlsplit(path).query)["token"][0]


def form_of(page_html: str) -> dict[str, str]:
    """The hidden fields of the page's form (what its button posts)."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page_html))


def deliver(app):
    return sender(app).deliver()


# --- invitations ---------------------------------------------------------------------


def test_an_invited_person_follows_the_link_sets_a_password_and_logs_in(
    client, coordinator, program, mailbox, session
):
    r = client.post(
        f"/api/v1/programs/{program['id']}/invitations",
        json={"invitations": [{"email": "New.Person@Example.org", "role": "mentee"}]},
        headers=coordinator["headers"],
    )
    assert r.status_code == 202 and r.json == {"invited": 1, "already_in_program": 0}
    [invitation] = mailbox.to("new.person@example.org")
    assert program["name"] in invitation["Subject"]
    assert "List-Unsubscribe" not in invitation  # not optional mail
    path = link(invitation, "invitation")
    # Opening the link changes nothing: a page with a form.
    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script" not in page.get_data(as_text=True).lower()
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert (
        session.scalar(select(LinkToken.used_at).where(LinkToken.purpose == "invitation")) is None
    )
    # Before accepting, the account has no password: logging in fails.
    assert_problem(
        client.post(
            "/api/v1/tokens", json={"email": "new.person@example.org", "password": PASSWORD}
        ),
        401,
    )
    r = client.post(
        "/api/v1/invitations/accept",
        json={"token": token_of(path), "password": PASSWORD, "display_name": "Nia Person"},
    )
    assert r.status_code == 201, r.json
    me = client.get("/api/v1/me", headers=auth(r.json["token"])).json
    assert me["display_name"] == "Nia Person"
    assert [(m["program_id"], m["role"]) for m in me["memberships"]] == [(program["id"], "mentee")]
    r = client.post(
        "/api/v1/tokens", json={"email": "new.person@example.org", "password": PASSWORD}
    )
    assert r.status_code == 201
    # Single use: the same link again is refused, with the one problem type.
    again = client.post(
        "/api/v1/invitations/accept", json={"token": token_of(path), "password": PASSWORD}
    )
    body = assert_problem(again, 410)
    assert body["type"] == "urn:peermatch:problem:link-invalid"


def test_unknown_and_expired_invitation_tokens_get_the_same_problem(
    client, coordinator, program, mailbox, session
):
    client.post(
        f"/api/v1/programs/{program['id']}/invitations",
        json={"invitations": [{"email": "late@example.org", "role": "mentor"}]},
        headers=coordinator["headers"],
    )
    path = link(mailbox.to("late@example.org")[0], "invitation")
    session.execute(update(LinkToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    expired = client.post(
        "/api/v1/invitations/accept", json={"token": token_of(path), "password": PASSWORD}
    )
    unknown = client.post(
        "/api/v1/invitations/accept", json={"token": "x" * 43, "password": PASSWORD}
    )
    assert assert_problem(expired, 410) == assert_problem(unknown, 410)
    assert client.get(path).status_code == 410


def test_an_invitation_does_not_say_which_emails_already_had_an_account(
    client, coordinator, program, new_user, mailbox
):
    existing = new_user("Has Account")
    r = client.post(
        f"/api/v1/programs/{program['id']}/invitations",
        json={
            "invitations": [
                {"email": existing["email"], "role": "mentor"},
                {"email": "fresh@example.org", "role": "mentor"},
            ]
        },
        headers=coordinator["headers"],
    )
    assert r.json == {"invited": 2, "already_in_program": 0}
    # The person with an account accepts with their own password (not replaced).
    path = link(mailbox.to(existing["email"])[0], "invitation")
    wrong = client.post(
        "/api/v1/invitations/accept", json={"token": token_of(path), "password": "not-my-password"}
    )
    assert_problem(wrong, 401)
    ok = client.post(
        "/api/v1/invitations/accept", json={"token": token_of(path), "password": PASSWORD}
    )
    assert ok.status_code == 201, ok.json
    memberships = client.get("/api/v1/me", headers=existing["headers"]).json["memberships"]
    assert [m["role"] for m in memberships] == ["mentor"]


# --- password reset ------------------------------------------------------------------


def test_a_password_reset_sets_the_new_password_and_revokes_every_old_token(
    client, new_user, mailbox
):
    user = new_user("Forgetful")
    second = client.post("/api/v1/tokens", json={"email": user["email"], "password": PASSWORD})
    old_tokens = [user["headers"], auth(second.json["token"])]
    r = client.post("/api/v1/password-resets", json={"email": user["email"].upper()})
    assert r.status_code == 202
    known = r.get_data()
    # Unknown emails get the same answer, and no mail goes anywhere.
    r = client.post("/api/v1/password-resets", json={"email": "nobody-here@example.org"})
    assert r.status_code == 202 and r.get_data() == known
    [reset] = mailbox.received
    assert reset["To"] == user["email"]
    path = link(reset, "password-reset")
    assert client.get(path).status_code == 200
    r = client.post(
        "/api/v1/password-resets/confirm",
        json={"token": token_of(path), "password": "a-brand-new-passphrase"},
    )
    assert r.status_code == 204, r.json
    for headers in old_tokens:
        assert_problem(client.get("/api/v1/me", headers=headers), 401)
    assert_problem(
        client.post("/api/v1/tokens", json={"email": user["email"], "password": PASSWORD}), 401
    )
    r = client.post(
        "/api/v1/tokens", json={"email": user["email"], "password": "a-brand-new-passphrase"}
    )
    assert r.status_code == 201
    # The link worked once.
    assert_problem(
        client.post(
            "/api/v1/password-resets/confirm",
            json={"token": token_of(path), "password": "yet-another-passphrase"},
        ),
        410,
    )


def test_asking_twice_for_a_reset_sends_one_message(client, new_user, mailbox):
    user = new_user()
    for _ in range(3):
        assert (
            client.post("/api/v1/password-resets", json={"email": user["email"]}).status_code == 202
        )
    assert len(mailbox.to(user["email"])) == 1


# --- the life of a match ---------------------------------------------------------------


@pytest.fixture
def demo(client, session_factory, session):
    """The demo program seeded into the test database, with its first round proposed."""
    with session_factory() as s:
        seeding.seed(s, seeding.resolve_dir(None))
    coordinator = session.scalar(select(Account).where(Account.email == seeding.COORDINATOR_EMAIL))
    program_id = session.scalar(select(func.min(Participant.program_id)))
    with session_factory() as s:
        queued = round_runs.start(s, s.merge(coordinator), program_id, {}, max_round_size=20000)
        done = round_runs.execute(s, queued.id)
        assert done is not None and done.status == "proposed"
        round_id = done.id
    r = client.post(
        "/api/v1/tokens",
        json={"email": seeding.COORDINATOR_EMAIL, "password": seeding.DEMO_PASSWORD},
    )
    return {"program_id": program_id, "round_id": round_id, "headers": auth(r.json["token"])}


def test_publishing_the_demo_round_mails_each_side_of_each_pair_exactly_once(
    client, demo, mailbox, session
):
    url = f"/api/v1/programs/{demo['program_id']}/rounds/{demo['round_id']}/publish"
    r = client.post(url, headers=demo["headers"])
    assert r.status_code == 200, r.json
    matches = session.scalars(select(Match).where(Match.round_id == demo["round_id"])).all()
    assert len(matches) == r.json["matches_created"] > 50
    expected = sorted(
        p.account.email for m in matches for p in (m.mentee, m.mentor)
    )  # a mentor of several mentees gets one message per match
    assert sorted(m["To"] for m in mailbox.received) == expected
    assert all("waiting for your answer" in m["Subject"] for m in mailbox.received)
    # A second publish is refused and sends nothing more; a delivery run sends nothing again.
    assert_problem(client.post(url, headers=demo["headers"]), 409)
    deliver(client.application)
    assert len(mailbox.received) == len(expected)
    # Every message names the partner, why, the deadline, and working links.
    first = matches[0]
    for side, me, partner in (
        (" mentee ", first.mentee, first.mentor),
        (" mentor ", first.mentor, first.mentee),
    ):
        [message] = [
            m for m in mailbox.to(me.account.email) if partner.account.display_name in text_of(m)
        ]
        body = text_of(message)
        assert f"matched as the{side}of" in body
        assert "Why you were matched" in body and "Please answer by" in body
        assert me.timezone in body  # the deadline in the reader's own time zone
        for choice in ("accept", "decline"):
            page = client.get(link(message, "answer", choice))
            assert page.status_code == 200
            assert escape(partner.account.display_name) in page.get_data(as_text=True)
        assert "Accept" in html_of(message)


def test_a_decline_from_the_email_page_works_and_a_get_of_the_link_changes_nothing(
    client, make_program, admin, join, mentee_profile, mentor_profile, mailbox, session, new_user
):
    p = make_program()
    coordinator = new_user("Coordinator")
    client.post(
        f"/api/v1/programs/{p['id']}/coordinators",
        json={"email": coordinator["email"]},
        headers=admin["headers"],
    )
    mentee = join(p, "mentee", mentee_profile)
    mentor = join(p, "mentor", mentor_profile)
    h = coordinator["headers"]
    round_id = client.post(f"/api/v1/programs/{p['id']}/rounds", json={}, headers=h).json["id"]
    assert (
        client.post(f"/api/v1/programs/{p['id']}/rounds/{round_id}/publish", headers=h).status_code
        == 200
    )
    [proposal] = mailbox.to(mentee["email"])
    decline = link(proposal, "answer", "decline")
    # A scanner (or the person) opening the link several times changes nothing.
    for _ in range(3):
        page = client.get(decline)
        assert page.status_code == 200
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert page.headers["Referrer-Policy"] == "no-referrer"
    match = session.scalar(select(Match).where(Match.round_id == round_id))
    session.refresh(match)
    assert match.status == "proposed"
    assert len(mailbox.received) == 2  # no message about an answer either
    # The page's button posts the form: the match is declined, the partner told once.
    form = form_of(page.get_data(as_text=True))
    assert form["choice"] == "decline" and form["token"] == token_of(decline)
    done = client.post("/pages/answer", data=form)
    assert done.status_code == 200 and "declined" in done.get_data(as_text=True).lower()
    session.refresh(match)
    assert match.status == "declined" and match.closed_by == "mentee"
    [answered] = mailbox.to(mentor["email"])[1:]
    assert "declined" in answered["Subject"]
    # Posting the same form again: the token is used up.
    again = client.post("/pages/answer", data=form)
    assert again.status_code == 410
    assert len(mailbox.received) == 3


def test_when_both_accept_each_gets_the_partners_email_and_a_calendar_invitation_in_their_zone(
    client, world, mailbox, session
):
    people = world["people"]
    owner, partner = people["owner"], people["partner"]
    match_id = next(
        m["id"] for m in client.get("/api/v1/me/matches", headers=owner["headers"]).json
    )
    assert (
        client.post(f"/api/v1/matches/{match_id}/accept", headers=owner["headers"]).json["status"]
        == "accepted"
    )
    [told] = mailbox.to(partner["email"])
    assert "accepted" in told["Subject"]
    assert (
        client.post(f"/api/v1/matches/{match_id}/accept", headers=partner["headers"]).json["status"]
        == "active"
    )
    starts = {}
    for me, other, zone in (
        (owner, partner, "Europe/Berlin"),
        (partner, owner, "America/New_York"),
    ):
        [active] = [m for m in mailbox.to(me["email"]) if "started" in m["Subject"]]
        assert other["email"] in text_of(active)
        [ics] = [p for p in active.iter_attachments() if p.get_content_type() == "text/calendar"]
        assert ics.get_filename() == "first-meeting.ics"
        calendar = ics.get_content()
        calendar = calendar if isinstance(calendar, str) else calendar.decode()
        assert "BEGIN:VCALENDAR" in calendar and "RRULE:FREQ=WEEKLY;COUNT=12" in calendar
        assert f"TZID:{zone}" in calendar
        local = re.search(rf"DTSTART;TZID={zone}:(\d{{8}}T\d{{6}})", calendar).group(1)
        starts[zone] = datetime.strptime(local, "%Y%m%dT%H%M%S").replace(tzinfo=ZoneInfo(zone))
    # Mentee Tue 18:00-19:30 Berlin, mentor Tue 12:00-14:00 New York: the common window
    # starts at 18:00 in Berlin; each calendar says that same instant in its own zone.
    assert starts["Europe/Berlin"].strftime("%a %H:%M") == "Tue 18:00"
    assert starts["Europe/Berlin"] == starts["America/New_York"]


def test_expiry_is_announced_once_whether_a_listing_or_the_nightly_run_finds_it(
    client, world, mailbox, session, session_factory
):
    from api.services import relationships

    people = world["people"]
    matches = session.scalars(select(Match).where(Match.round_id == world["round_id"])).all()
    session.execute(update(Match).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    before = len(mailbox.received)
    client.get("/api/v1/me/matches", headers=people["owner"]["headers"])
    client.get("/api/v1/me/matches", headers=people["partner"]["headers"])
    expired = [m for m in mailbox.received[before:] if "expired" in m["Subject"]]
    assert sorted(m["To"] for m in expired) == sorted(
        p.account.email for m in matches for p in (m.mentee, m.mentor)
    )
    # The nightly run's expiry (the same batch) finds nothing more to announce.
    with session_factory() as s:
        assert relationships.expire_due(s, utcnow()) == 0
        s.commit()
    deliver(client.application)
    assert len(mailbox.received) == before + len(expired)
    assert session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "expired")
    ) == len(expired)


def test_a_mail_the_server_refuses_is_retried_with_backoff_and_then_marked_failed(
    app, client, new_user, mailbox, session, smtp
):
    user = new_user()
    smtp.mailbox.refuse = 451
    client.post("/api/v1/password-resets", json={"email": user["email"]})
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.account_id == user["id"]))
    session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == ("pending", 1, "smtp 451")
    assert message.next_attempt_at > utcnow() + timedelta(seconds=50)
    # Nothing is due before the backoff is over.
    assert deliver(app).retried == 0
    attempts = app.config["OUTBOX_MAX_ATTEMPTS"]
    waits = []
    for _ in range(attempts - 1):
        session.refresh(message)
        waits.append(message.next_attempt_at)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
        deliver(app)
    session.refresh(message)
    assert (message.status, message.attempts) == ("failed", attempts)
    assert smtp.mailbox.refused == attempts and not mailbox.received
    # The server takes mail again: a failed message stays failed (an operator's call).
    smtp.mailbox.refuse = None
    deliver(app)
    assert not mailbox.received


def test_reminders_go_once_per_proposal_even_when_the_task_runs_twice(
    client, world, mailbox, session, session_factory
):
    people = world["people"]
    owner_match = session.scalar(select(Match).where(Match.round_id == world["round_id"]))
    client.post(f"/api/v1/matches/{owner_match.id}/accept", headers=people["owner"]["headers"])
    later = utcnow() + timedelta(days=3, hours=1)  # reminder_days is 3 by default
    before = len(mailbox.received)
    for _ in range(2):
        with session_factory() as s:
            notify.due(s, later)
        deliver(client.application)
    reminders = [m for m in mailbox.received[before:] if m["Subject"].startswith("Reminder")]
    # Each person who has not answered is reminded once per proposal; the owner, who
    # accepted, is not.
    session.expire_all()
    expected = sorted(
        p.account.email
        for m in session.scalars(select(Match).where(Match.round_id == world["round_id"]))
        for p, accepted in ((m.mentee, m.mentee_accepted_at), (m.mentor, m.mentor_accepted_at))
        if accepted is None
    )
    assert sorted(m["To"] for m in reminders) == expected
    assert people["owner"]["email"] not in expected and people["partner"]["email"] in expected
    assert reminders[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert reminders[0]["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/pages/unsubscribe?")


def test_one_click_unsubscribe_turns_reminders_off_and_settings_show_it(
    client, world, mailbox, session_factory
):
    people = world["people"]
    partner = people["partner"]
    later = utcnow() + timedelta(days=3, hours=1)
    with session_factory() as s:
        notify.due(s, later)
    deliver(client.application)
    reminder = [m for m in mailbox.to(partner["email"]) if m["Subject"].startswith("Reminder")][0]
    target = reminder["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:5000")
    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the link.
    r = client.post(target, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    settings = client.get("/api/v1/me/notification-settings", headers=partner["headers"]).json
    assert settings == {"reminders": False, "check_in_prompts": True, "digests": True}
    r = client.patch(
        "/api/v1/me/notification-settings", json={"reminders": True}, headers=partner["headers"]
    )
    assert r.json["reminders"] is True
    # Proposals cannot be turned off.
    assert_problem(
        client.patch(
            "/api/v1/me/notification-settings",
            json={"proposals": False},
            headers=partner["headers"],
        ),
        422,
    )


def test_check_in_prompts_and_digests_come_once_per_period(
    client, world, mailbox, session_factory, session
):
    people = world["people"]
    match_id = next(
        m["id"] for m in client.get("/api/v1/me/matches", headers=people["owner"]["headers"]).json
    )
    for who in ("owner", "partner"):
        client.post(f"/api/v1/matches/{match_id}/accept", headers=people[who]["headers"])
    before = len(mailbox.received)
    two_weeks = utcnow() + timedelta(weeks=2, hours=1)
    for _ in range(2):
        with session_factory() as s:
            notify.due(s, two_weeks)
        deliver(client.application)
    new = mailbox.received[before:]
    prompts = sorted(m["To"] for m in new if "check-in" in m["Subject"])
    assert prompts == sorted([people["owner"]["email"], people["partner"]["email"]])
    digests = [m for m in new if m["Subject"].startswith("Your week")]
    assert people["coordinator"]["email"] in [m["To"] for m in digests]
    assert len({m["To"] for m in digests}) == len(digests)
    # The next period prompts again.
    with session_factory() as s:
        notify.due(s, utcnow() + timedelta(weeks=4, hours=1))
    deliver(client.application)
    assert len([m for m in mailbox.received if "check-in" in m["Subject"]]) == 4


def test_operators_list_the_outbox_and_run_the_due_task_by_hand(runner, world, new_user, client):
    user = new_user()
    client.post("/api/v1/password-resets", json={"email": user["email"]})
    listed = runner.invoke(args=["outbox"])
    assert listed.exit_code == 0, listed.output
    assert "sent" in listed.output and "password_reset" in listed.output
    assert user["email"] not in listed.output  # ids, kinds, statuses, subjects: no addresses
    failed = runner.invoke(args=["outbox", "--status", "failed"])
    assert failed.exit_code == 0 and "password_reset" not in failed.output
    due = runner.invoke(args=["notify", "--due", "--as-of", "2099-01-05T09:00:00+00:00"])
    assert due.exit_code == 0, due.output
    assert "due:" in due.output and "outbox:" in due.output
