"""rounds, matches, constraints, check-ins, idempotency

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:35:24.524375
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.adapters.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_idempotency_records_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint(
            "account_id", "key", name=op.f("uq_idempotency_records_account_id_key")
        ),
    )
    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("run_key", sa.String(length=40), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=True),
        sa.Column("unmatched", sa.JSON(), nullable=True),
        sa.Column("infeasible_pins", sa.JSON(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("discarded_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('manual', 'rematch')", name=op.f("ck_rounds_kind")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'proposed', 'published', 'failed', 'discarded')",
            name=op.f("ck_rounds_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
            name=op.f("fk_rounds_created_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_rounds_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds")),
        sa.UniqueConstraint("program_id", "run_key", name=op.f("uq_rounds_program_id_run_key")),
    )
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rounds_program_id"), ["program_id"], unique=False)
        batch_op.create_index(
            "uq_rounds_one_active_per_program",
            ["program_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )

    op.create_table(
        "constraints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('pin', 'forbid')", name=op.f("ck_constraints_kind")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
            name=op.f("fk_constraints_created_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["participants.id"],
            name=op.f("fk_constraints_mentee_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["participants.id"],
            name=op.f("fk_constraints_mentor_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_constraints_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_constraints")),
        sa.UniqueConstraint(
            "program_id",
            "mentee_id",
            "mentor_id",
            name=op.f("uq_constraints_program_id_mentee_id_mentor_id"),
        ),
    )
    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mentee_accepted_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mentor_accepted_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("activated_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=10), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'accepted', 'active', 'ended', 'declined', 'expired')",
            name=op.f("ck_matches_status"),
        ),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["participants.id"],
            name=op.f("fk_matches_mentee_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["participants.id"],
            name=op.f("fk_matches_mentor_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_matches_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_matches_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint("round_id", "mentee_id", name=op.f("uq_matches_round_id_mentee_id")),
    )
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.create_index("ix_matches_mentee_id_status", ["mentee_id", "status"], unique=False)
        batch_op.create_index("ix_matches_mentor_id_status", ["mentor_id", "status"], unique=False)
        batch_op.create_index(
            "ix_matches_program_id_status", ["program_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_matches_one_live_per_mentee",
            ["mentee_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('proposed', 'accepted', 'active')"),
            postgresql_where=sa.text("status IN ('proposed', 'accepted', 'active')"),
        )

    op.create_table(
        "round_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["participants.id"],
            name=op.f("fk_round_pairs_mentee_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["participants.id"],
            name=op.f("fk_round_pairs_mentor_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_round_pairs_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_pairs")),
        sa.UniqueConstraint(
            "round_id", "mentee_id", name=op.f("uq_round_pairs_round_id_mentee_id")
        ),
    )
    with op.batch_alter_table("round_pairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_pairs_mentor_id"), ["mentor_id"], unique=False)
        batch_op.create_index("ix_round_pairs_round_id_score", ["round_id", "score"], unique=False)

    op.create_table(
        "check_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_side", sa.String(length=10), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("signal", sa.String(length=10), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "signal IS NULL OR signal IN ('ok', 'stretched', 'drained')",
            name=op.f("ck_check_ins_signal"),
        ),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_check_ins_rating")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["participants.id"],
            name=op.f("fk_check_ins_author_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_check_ins_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
    )
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_ins_match_id"), ["match_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_ins_match_id"))

    op.drop_table("check_ins")
    with op.batch_alter_table("round_pairs", schema=None) as batch_op:
        batch_op.drop_index("ix_round_pairs_round_id_score")
        batch_op.drop_index(batch_op.f("ix_round_pairs_mentor_id"))

    op.drop_table("round_pairs")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_matches_one_live_per_mentee",
            sqlite_where=sa.text("status IN ('proposed', 'accepted', 'active')"),
            postgresql_where=sa.text("status IN ('proposed', 'accepted', 'active')"),
        )
        batch_op.drop_index("ix_matches_program_id_status")
        batch_op.drop_index("ix_matches_mentor_id_status")
        batch_op.drop_index("ix_matches_mentee_id_status")

    op.drop_table("matches")
    op.drop_table("constraints")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_rounds_one_active_per_program",
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )
        batch_op.drop_index(batch_op.f("ix_rounds_program_id"))

    op.drop_table("rounds")
    op.drop_table("idempotency_records")
