"""Coordinators import participants from a spreadsheet's CSV: all or nothing, and never
over what people wrote themselves, nor on their behalf."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from api.adapters.models import Account, ConsentRecord, OutboxMessage, Participant
from tests.api.conftest import PASSWORD, assert_problem

HEADER = (
    "email,display_name,role,bio,needs,strengths,languages,timezone,availability,"
    "experience_level,capacity,org_unit,manager_email,preferred_partners,cultural_preference\n"
)
GOOD_ROWS = (
    'ana@example.org,Ana Lima,mentee,"Wants to speak at meetups",'
    '"public-speaking:3; leadership:1",,"pt; en",America/Sao_Paulo,'
    '"tue 19:00-20:30; sat 10:00-12:00",2,,Data,,,open\n'
    'ben@example.org,Ben Okafor,mentor,,,"public-speaking:3; python:2",en,Africa/Lagos,'
    '"tue 12:00-14:00",4,2,Platform,,,open\n'
)


BOUNDARY = "peermatch-test-boundary-7f3a"


def upload(client, program, headers, text, **query):
    # The multipart body written here: werkzeug's test client spools a large one to a
    # temporary file it never closes (a ResourceWarning, an error under this suite).
    body = (
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="people.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + text.encode()
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return client.post(
        f"/api/v1/programs/{program['id']}/participants/import",
        query_string=query,
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=headers,
    )


def _count(session, program):
    return session.scalar(
        select(func.count()).select_from(Participant).where(Participant.program_id == program["id"])
    )


def test_a_valid_file_imports_every_row(client, session, program, coordinator):
    r = upload(client, program, coordinator["headers"], HEADER + GOOD_ROWS)
    assert r.status_code == 201, r.json
    assert r.json == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "invited": None,
        "dry_run": False,
    }
    ana = session.scalar(
        select(Participant).join(Account).where(Account.email == "ana@example.org")
    )
    assert [t.tag for t in ana.tag_list("need")] == ["leadership", "public-speaking"]
    assert ana.availability[0] == {"day": "tue", "start": "19:00", "end": "20:30"}
    assert ana.cultural_background is None and ana.live_consent() is None
    # Importing the same file again changes nothing and duplicates nobody.
    r = upload(client, program, coordinator["headers"], HEADER + GOOD_ROWS)
    assert r.status_code == 201
    assert (r.json["created"], r.json["updated"], r.json["unchanged"]) == (0, 0, 2)
    assert _count(session, program) == 2


def test_a_bad_row_is_reported_by_row_number_and_nothing_is_imported(
    client, session, program, coordinator
):
    bad = (
        'cy@example.org,Cy,mentee,,"knitting:2",,en,Mars/Base,"mon 10:00-09:00",2,,,,,open\n'
        "dee@example.org,Dee,mentee,,,,en,Europe/Paris,,2,,,,,open\n"
    )
    r = upload(client, program, coordinator["headers"], HEADER + GOOD_ROWS + bad)
    body = assert_problem(r, 422, "file")
    rows = {row["row"]: row["errors"] for row in body["rows"]}
    assert set(rows) == {4, 5}
    assert "timezone" in rows[4] and "availability.0.end" in rows[4]
    assert rows[5] == {"availability": ["Missing value."]}
    assert _count(session, program) == 0
    assert session.scalar(select(Account.id).where(Account.email == "ana@example.org")) is None


def test_special_category_and_consent_columns_are_refused_with_their_row_number(
    client, session, program, coordinator
):
    header = HEADER.strip() + ",cultural_background,wellbeing_needs,consent_special_category\n"
    rows = (
        GOOD_ROWS.splitlines()[0]
        + ",brazilian,,yes\n"
        + GOOD_ROWS.splitlines()[1]
        + ",,,\n"
        + "cy@example.org,Cy,mentee,,python:2,,en,Europe/Paris,mon 10:00-11:00,2,,,,,open,,"
        "caregiver,\n"
    )
    body = assert_problem(upload(client, program, coordinator["headers"], header + rows), 422)
    refused = {row["row"]: sorted(row["errors"]) for row in body["rows"]}
    assert refused == {
        2: ["consent_special_category", "cultural_background"],
        4: ["wellbeing_needs"],
    }
    assert _count(session, program) == 0
    assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_taxonomy_and_duplicate_rows_are_checked(client, program, coordinator):
    rows = GOOD_ROWS + GOOD_ROWS.splitlines(keepends=True)[0].replace("public-speaking:3", "x:3")
    body = assert_problem(upload(client, program, coordinator["headers"], HEADER + rows), 422)
    assert body["rows"] == [
        {"row": 4, "errors": {"email": ["This email appears on an earlier row."]}}
    ]
    mistagged = GOOD_ROWS.replace("public-speaking:3; leadership:1", "knitting:2")
    body = assert_problem(upload(client, program, coordinator["headers"], HEADER + mistagged), 422)
    assert body["rows"][0]["row"] == 2 and "needs.0.tag" in body["rows"][0]["errors"]


def test_a_self_registered_participants_profile_is_byte_identical_after_an_import_naming_them(
    client, session, program, coordinator, join, mentee_profile
):
    person = join(program, "mentee", mentee_profile)
    url = f"/api/v1/programs/{program['id']}/profile"
    before = client.get(url, headers=person["headers"]).get_data()
    # The row says other things about everything the person wrote (bio, needs, languages,
    # time zone, availability, level, preference) and gives sensitive-data-free values.
    row = (
        f'{person["email"]},Someone Else,mentee,"A different bio","leadership:3",,fr,'
        'Asia/Tokyo,"mon 08:00-09:00",5,,,,,shared\n'
    )
    r = upload(client, program, coordinator["headers"], HEADER + row)
    assert r.status_code == 201, r.json
    assert (r.json["created"], r.json["updated"], r.json["unchanged"]) == (0, 0, 1)
    assert client.get(url, headers=person["headers"]).get_data() == before
    # Coordinator-owned values do change (and only they).
    row = f'{person["email"]},,mentee,,,,,,,,,"Finance",boss@example.org,,\n'
    r = upload(client, program, coordinator["headers"], HEADER + row)
    assert (r.json["updated"], r.json["unchanged"]) == (1, 0)
    after = client.get(url, headers=person["headers"]).json
    assert after["profile"]["org_unit"] == "Finance"
    assert after["profile"]["manager_email"] == "boss@example.org"
    assert after["profile"]["bio"] == mentee_profile["bio"]
    assert after["display_name"] != "Someone Else"


def test_an_email_with_an_account_elsewhere_is_invited_not_enrolled_and_the_answer_hides_it(
    client, session, program, coordinator, new_user, mailbox
):
    has_account = new_user("Already Here")
    rows = GOOD_ROWS + (
        f'{has_account["email"]},Given Name,mentor,,,"python:2",en,Europe/Paris,'
        '"mon 10:00-11:00",3,,,,,open\n'
    )
    r = upload(client, program, coordinator["headers"], HEADER + rows)
    assert r.status_code == 201, r.json
    # Three people new to the program; which of them had an account is not said.
    assert r.json["created"] == 3 and r.json["invited"] is None
    assert _count(session, program) == 2  # the person with an account is not enrolled
    [invitation] = mailbox.to(has_account["email"])
    assert "invited" in invitation["Subject"]
    assert not mailbox.to("ana@example.org")  # without invite=true, no mail to newcomers


def test_invite_true_mails_each_newcomer_who_then_logs_in(
    client, session, program, coordinator, mailbox
):
    r = upload(client, program, coordinator["headers"], HEADER + GOOD_ROWS, invite="true")
    assert r.status_code == 201 and (r.json["created"], r.json["invited"]) == (2, 2)
    [message] = mailbox.to("ana@example.org")
    token = message.get_body(("plain",)).get_content().split("token=")[1].split()[0]
    r = client.post("/api/v1/invitations/accept", json={"token": token, "password": PASSWORD})
    assert r.status_code == 201, r.json
    r = client.post("/api/v1/tokens", json={"email": "ana@example.org", "password": PASSWORD})
    assert r.status_code == 201
    # Still one participation, with the imported profile.
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json['token']}"}).json
    assert [m["role"] for m in me["memberships"]] == ["mentee"]


def test_a_dry_run_answers_what_would_happen_and_writes_nothing(
    client, session, program, coordinator, join, mentee_profile, mailbox
):
    person = join(program, "mentee", mentee_profile)
    row = f"{person['email']},,mentee,,,,,,,,,Finance,,,\n"
    r = upload(
        client,
        program,
        coordinator["headers"],
        HEADER + GOOD_ROWS + row,
        dry_run="true",
        invite="true",
    )
    assert r.status_code == 200, r.json
    assert r.json == {
        "rows": 3,
        "created": 2,
        "updated": 1,
        "unchanged": 0,
        "invited": 2,
        "dry_run": True,
    }
    assert _count(session, program) == 1
    assert session.scalar(select(Account.id).where(Account.email == "ana@example.org")) is None
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert not mailbox.received
    # Refused rows are named in a dry run too.
    bad = upload(client, program, coordinator["headers"], HEADER + "x,,mentee\n", dry_run="true")
    assert assert_problem(bad, 422)["rows"][0]["row"] == 2


@pytest.mark.parametrize(
    ("content", "row", "says"),
    [
        (HEADER + "ana@example.org,Ana,mentee\n", 2, "Missing value"),  # a short row
        (HEADER + 'ana@example.org,"Ana,mentee,,,,en\n', 2, "unexpected end"),  # unclosed quote
        (HEADER + GOOD_ROWS + 'x@example.org,X "Y" Z,mentee\n', 4, '"'),  # stray quote
        (HEADER + "ana@example.org,Ana\x00,mentee\n", None, "NUL"),
        (
            HEADER + f"ana@example.org,{'A' * 121},mentee,,a:1,,en,UTC,mon 10:00-11:00,2\n",
            2,
            "At most 120",
        ),
        (HEADER + f"{'a' * 250}@example.org,Ana,mentee\n", 2, "At most 254"),
        (HEADER + f"ana@example.org,Ana,mentee,{'b' * 200_000}\n", 2, "field larger"),
        (HEADER + f"ana@example.org,Ana,mentee,{'b' * 5000}\n", 2, "At most 4000"),
        (HEADER + "ana@example.org,Ana,mentee" + ",x" * 20 + "\n", 2, "more cells"),
    ],
)
def test_malformed_files_get_a_422_naming_the_row_never_a_500(
    client, program, coordinator, content, row, says
):
    r = upload(client, program, coordinator["headers"], content)
    body = assert_problem(r, 422)
    text = r.get_data(as_text=True)
    assert says in text, text
    if row is not None:
        assert f"Row {row}" in text or any(x["row"] == row for x in body.get("rows", []))


def test_unknown_or_missing_columns_and_non_utf8_are_refused(client, program, coordinator):
    h = coordinator["headers"]
    assert_problem(upload(client, program, h, "email,shoe_size\nx@example.org,42\n"), 422, "file")
    r = client.post(
        f"/api/v1/programs/{program['id']}/participants/import",
        data={"file": (io.BytesIO("email\n\xff\xfe".encode("latin-1")), "x.csv")},
        content_type="multipart/form-data",
        headers=h,
    )
    assert_problem(r, 422, "file")
    assert_problem(upload(client, program, h, HEADER), 422, "file")
    assert_problem(upload(client, program, h, "email,role,email\nx@example.org,mentee,y\n"), 422)


def test_only_coordinators_import(client, program, join, mentee_profile):
    mentee = join(program, "mentee", mentee_profile)
    assert_problem(upload(client, program, mentee["headers"], HEADER + GOOD_ROWS), 403)


def five_thousand_rows() -> str:
    rows = [HEADER]
    for i in range(5000):
        if i % 4 == 0:
            rows.append(
                f'mentor{i}@example.org,Mentor Number {i},mentor,"Engineering lead who has '
                f'coached many people through their first years in the field.",,'
                f'"public-speaking:3; python:2; leadership:2",en; de,Europe/Berlin,'
                f'"tue 12:00-14:00; thu 17:00-18:30",4,3,Platform,,,open\n'
            )
        else:
            rows.append(
                f'mentee{i}@example.org,Mentee Number {i},mentee,"Backend developer two '
                f'years in, wants to grow into a tech lead role.","public-speaking:3; '
                f'leadership:1",,en,America/New_York,"tue 09:00-11:00; wed 18:00-19:30",2,,'
                f"Data,,,open\n"
            )
    return "".join(rows)


def test_five_thousand_rows_import_under_the_default_limits(
    app, client, session, program, coordinator
):
    import time

    from api import config

    content = five_thousand_rows()
    # More than the API's general body limit: the import's own limit fits the row cap.
    assert len(content.encode()) > config.Settings().MAX_CONTENT_LENGTH
    app.config["IMPORT_MAX_BYTES"] = config.Settings().IMPORT_MAX_BYTES
    started = time.perf_counter()
    r = upload(client, program, coordinator["headers"], content)
    took = time.perf_counter() - started
    assert r.status_code == 201, r.get_data(as_text=True)[:2000]
    assert r.json["created"] == 5000
    assert _count(session, program) == 5000
    print(f"\ncsv import: 5,000 rows, {len(content.encode()) / 1e6:.2f} MB, {took:.1f} s")


def test_a_file_over_the_import_limit_is_refused_with_413(app, client, program, coordinator):
    app.config["IMPORT_MAX_BYTES"] = 10_000
    r = upload(client, program, coordinator["headers"], five_thousand_rows()[:20_000])
    assert_problem(r, 413)
