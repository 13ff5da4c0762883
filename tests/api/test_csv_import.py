"""Coordinators import participants from a spreadsheet's CSV, all or nothing."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from api.adapters.models import Account, Participant
from tests.api.conftest import assert_problem

HEADER = (
    "email,display_name,role,bio,needs,strengths,languages,timezone,availability,"
    "experience_level,capacity,org_unit,manager_email,preferred_partners,cultural_preference,"
    "cultural_background,wellbeing_needs,consent_special_category,consent_text_version\n"
)
GOOD_ROWS = (
    'ana@example.org,Ana Lima,mentee,"Wants to speak at meetups",'
    '"public-speaking:3; leadership:1",,"pt; en",America/Sao_Paulo,'
    '"tue 19:00-20:30; sat 10:00-12:00",2,,Data,,,open,brazilian,,yes,2026-01\n'
    'ben@example.org,Ben Okafor,mentor,,,"public-speaking:3; python:2",en,Africa/Lagos,'
    '"tue 12:00-14:00",4,2,Platform,,,open,,,,\n'
)


def upload(client, program, headers, text):
    return client.post(
        f"/api/v1/programs/{program['id']}/participants/import",
        data={"file": (io.BytesIO(text.encode()), "people.csv")},
        content_type="multipart/form-data",
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
        "accounts_created": 2,
        "participants_created": 2,
        "profiles_written": 2,
    }
    ana = session.scalar(
        select(Participant).join(Account).where(Account.email == "ana@example.org")
    )
    assert [t.tag for t in ana.tag_list("need")] == ["leadership", "public-speaking"]
    assert ana.availability[0] == {"day": "tue", "start": "19:00", "end": "20:30"}
    assert ana.cultural_background == ["brazilian"] and ana.live_consent() is not None
    # Importing the same file again updates, it does not duplicate.
    r = upload(client, program, coordinator["headers"], HEADER + GOOD_ROWS)
    assert r.status_code == 201 and r.json["participants_created"] == 0
    assert _count(session, program) == 2


def test_a_bad_row_is_reported_by_row_number_and_nothing_is_imported(
    client, session, program, coordinator
):
    bad = (
        'cy@example.org,Cy,mentee,,"knitting:2",,en,Mars/Base,"mon 10:00-09:00",2,,,,,open,,,,\n'
        'dee@example.org,Dee,mentee,,"python:2",,en,Europe/Paris,"mon 10:00-11:00",2,,,,,'
        "open,,caregiver,,\n"
    )
    r = upload(client, program, coordinator["headers"], HEADER + GOOD_ROWS + bad)
    body = assert_problem(r, 422, "file")
    rows = {row["row"]: row["errors"] for row in body["rows"]}
    assert set(rows) == {4, 5}
    assert "timezone" in rows[4] and "availability.0.end" in rows[4]
    assert "wellbeing_needs" in rows[5]  # sensitive data without consent
    assert _count(session, program) == 0
    assert session.scalar(select(Account.id).where(Account.email == "ana@example.org")) is None


def test_taxonomy_and_duplicate_rows_are_checked(client, program, coordinator):
    rows = GOOD_ROWS + GOOD_ROWS.splitlines(keepends=True)[0].replace("public-speaking:3", "x:3")
    body = assert_problem(upload(client, program, coordinator["headers"], HEADER + rows), 422)
    assert body["rows"] == [
        {"row": 4, "errors": {"email": ["This email appears on an earlier row."]}}
    ]
    mistagged = GOOD_ROWS.replace("public-speaking:3; leadership:1", "knitting:2")
    body = assert_problem(upload(client, program, coordinator["headers"], HEADER + mistagged), 422)
    assert body["rows"][0]["row"] == 2 and "needs.0.tag" in body["rows"][0]["errors"]


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


def test_only_coordinators_import(client, program, join, mentee_profile):
    mentee = join(program, "mentee", mentee_profile)
    assert_problem(upload(client, program, mentee["headers"], HEADER + GOOD_ROWS), 403)
