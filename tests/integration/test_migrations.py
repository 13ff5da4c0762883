"""The Alembic chain builds exactly the models' schema, and goes down and up cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import api.adapters.models  # noqa: F401
from api.adapters import migrate
from api.adapters.db import Base, make_engine
from api.entrypoints.cli import create_app


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrading_to_head_builds_the_models_schema_without_drift(empty_database_url):
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_revision_downgrades_and_upgrades_again(empty_database_url):
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = [r.revision for r in script.walk_revisions("base", "heads")][::-1]
    assert revisions, "no migrations found"
    for revision in revisions:
        migrate.upgrade(empty_database_url, revision)
    assert set(Base.metadata.tables) <= _tables(empty_database_url)
    for _ in revisions:
        migrate.downgrade(empty_database_url, "-1")
    assert _tables(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert set(Base.metadata.tables) <= _tables(empty_database_url)


def test_readiness_is_200_on_a_migrated_database(empty_database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": empty_database_url})
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    r = client.get("/readyz")
    assert r.status_code == 200, r.json
    assert r.json["revision"] == migrate.head_revision()
    result = app.test_cli_runner().invoke(args=["db", "current"])
    assert migrate.head_revision() in result.output
    from api.http.database import database

    database(app).dispose()


def test_the_demo_command_migrates_seeds_and_runs_a_first_round(empty_database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": empty_database_url, "REDIS_URL": None})
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "seeded program 'Global Engineering Peer Mentoring 2026' (created)" in result.output
    assert "matching round 1:" in result.output and "/api/docs" in result.output
    again = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert again.exit_code == 0 and "matching rounds exist already" in again.output
    from api.http.database import database

    database(app).dispose()


def test_the_migrated_check_constraints_allow_exactly_the_vocabulary(empty_database_url):
    import re

    from api.domain import vocabulary as v

    migrate.upgrade(empty_database_url)
    expected = {
        ("matches", "ck_matches_status"): v.MatchStatus,
        ("rounds", "ck_rounds_status"): v.RoundStatus,
        ("rounds", "ck_rounds_kind"): v.RoundKind,
        ("participants", "ck_participants_role"): v.Role,
        ("participants", "ck_participants_status"): v.ParticipantStatus,
        ("participants", "ck_participants_cultural_preference"): v.CulturalPreference,
        ("participant_tags", "ck_participant_tags_kind"): v.TagKind,
        ("consent_records", "ck_consent_records_purpose"): v.ConsentPurpose,
        ("constraints", "ck_constraints_kind"): v.ConstraintKind,
        ("check_ins", "ck_check_ins_signal"): v.Signal,
        ("outbox_messages", "ck_outbox_messages_status"): v.OutboxStatus,
        ("outbox_messages", "ck_outbox_messages_kind"): v.MessageKind,
        ("link_tokens", "ck_link_tokens_purpose"): v.LinkPurpose,
        ("fit_answers", "ck_fit_answers_answer"): v.FitAnswer,
        ("concerns", "ck_concerns_category"): v.ConcernCategory,
        ("concerns", "ck_concerns_status"): v.ConcernStatus,
        ("concerns", "ck_concerns_outcome"): v.ConcernOutcome,
    }
    engine = make_engine(empty_database_url)
    try:
        inspector = inspect(engine)
        for (table, name), enum in expected.items():
            [found] = [c for c in inspector.get_check_constraints(table) if c["name"] == name]
            words = set(re.findall(r"'([a-z_]+)'", found["sqltext"]))
            assert words == set(v.values(enum)), (table, name, words)
    finally:
        engine.dispose()
