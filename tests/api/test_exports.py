"""The round's CSV export opens safely in a spreadsheet: no cell runs as a formula, the
partners' contact emails are there for coordinators, and `excel=true` starts it with the
UTF-8 byte order mark Excel needs (the service writes no other CSV)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api.conftest import PASSWORD, auth


@pytest.fixture
def exported(client, program, coordinator, mentee_profile, mentor_profile):
    """A proposed round of one pair whose names (and the mentor's email) would run as
    formulas in a spreadsheet."""

    def person(email, name, role, profile):
        r = client.post(
            "/api/v1/accounts", json={"email": email, "password": PASSWORD, "display_name": name}
        )
        assert r.status_code == 201, r.json
        token = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
        headers = auth(token.json["token"])
        r = client.post(
            "/api/v1/programs/join",
            json={"join_code": program["join_code"], "role": role},
            headers=headers,
        )
        assert r.status_code == 201, r.json
        r = client.post(f"/api/v1/programs/{program['id']}/profile", json=profile, headers=headers)
        assert r.status_code == 201, r.json

    person("zoë.mentee@example.org", '=HYPERLINK("http://x","y")', "mentee", mentee_profile)
    person("+cmd@example.org", "@SUM(1+1)", "mentor", mentor_profile)
    base = f"/api/v1/programs/{program['id']}/rounds"
    r = client.post(base, json={}, headers=coordinator["headers"])
    assert r.status_code == 202 and r.json["stats"]["matched_count"] == 1
    return f"{base}/{r.json['id']}", coordinator["headers"]


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("path", ["pairs.csv", "matches.csv"])
def test_cells_a_spreadsheet_would_run_as_formulas_come_back_neutralised(client, exported, path):
    url, headers = exported
    [row] = _rows(client.get(f"{url}/{path}", headers=headers))
    assert row["mentee_name"] == '\'=HYPERLINK("http://x","y")'
    assert row["mentor_name"] == "'@SUM(1+1)"
    assert row["mentor_email"] == "'+cmd@example.org"
    # No cell of the file starts with a formula character.
    for value in row.values():
        assert value[:1] not in ("=", "+", "-", "@", "\t", "\r"), row


def test_coordinators_get_both_partners_contact_emails(client, exported):
    url, headers = exported
    [row] = _rows(client.get(f"{url}/pairs.csv", headers=headers))
    assert row["mentee_email"] == "zoë.mentee@example.org"
    assert row["mentor_email"].endswith("cmd@example.org")


@pytest.mark.parametrize("path", ["pairs.csv", "matches.csv"])
def test_excel_true_starts_with_the_utf8_byte_order_mark_and_the_default_does_not(
    client, exported, path
):
    url, headers = exported
    excel = client.get(f"{url}/{path}?excel=true", headers=headers)
    assert excel.data.startswith(b"\xef\xbb\xbfround_id,")
    assert "zoë.mentee@example.org" in excel.get_data(as_text=True)
    assert excel.headers["Content-Type"].startswith("text/csv; charset=utf-8")
    plain = client.get(f"{url}/{path}", headers=headers)
    assert plain.data.startswith(b"round_id,")
    assert _rows(excel) == _rows(plain)
