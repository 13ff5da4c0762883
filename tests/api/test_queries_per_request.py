"""The hot read paths ask the database a fixed, small number of questions per request,
however much a person has (tags, consents), and still answer what is current."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

# Transaction bookkeeping of the test fixtures (savepoints), not the request's own work.
_BOOKKEEPING = ("SAVEPOINT", "RELEASE", "ROLLBACK")


@contextmanager
def counting_queries(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_BOOKKEEPING):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _read(client, engine, url, headers):
    with counting_queries(engine) as statements:
        r = client.get(url, headers=headers)
    assert r.status_code == 200, r.json
    return r.json, len(statements)


def test_a_profile_read_takes_the_same_few_queries_however_many_tags_and_consents(
    client, engine, program, join, mentee_profile
):
    url = f"/api/v1/programs/{program['id']}/profile"
    few = dict(mentee_profile, needs=[{"tag": "leadership", "priority": 1}])
    small = join(program, "mentee", few)
    many = dict(
        mentee_profile,
        needs=[{"tag": t, "priority": 2} for t in ("career-growth", "leadership", "python")],
        strengths=[{"tag": "data-science", "level": 3}, {"tag": "public-speaking", "level": 1}],
        cultural_background=["brazilian"],
        consent={"special_category": True, "text_version": "2026-01"},
    )
    big = join(program, "both", dict(many, capacity=1))
    # A second consent record (a newer text) on top of the first.
    r = client.post(f"{url}/consent", json={"text_version": "2026-02"}, headers=big["headers"])
    assert r.status_code == 201, r.json

    small_view, small_queries = _read(client, engine, url, small["headers"])
    big_view, big_queries = _read(client, engine, url, big["headers"])

    assert len(small_view["profile"]["needs"]) == 1
    assert len(big_view["profile"]["needs"]) == 3 and len(big_view["profile"]["strengths"]) == 2
    assert big_view["consent"]["text_version"] == "2026-02"
    assert big_view["profile"]["cultural_background"] == ["brazilian"]
    assert small_queries == big_queries <= 2
