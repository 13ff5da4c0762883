"""initial schema: accounts, tokens, programs, participants, consent

Revision ID: 0001
Revises:
Create Date: 2026-11-26 12:00:37.905783
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.adapters.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
    )
    op.create_table(
        "programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("join_code", sa.String(length=40), nullable=False),
        sa.Column("taxonomy", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("join_code", name=op.f("uq_programs_join_code")),
        sa.UniqueConstraint("slug", name=op.f("uq_programs_slug")),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("joined_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "profile_completed_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("availability", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("experience_level", sa.Integer(), nullable=True),
        sa.Column("org_unit", sa.String(length=120), nullable=True),
        sa.Column("manager_email", sa.String(length=254), nullable=True),
        sa.Column("preferred_partners", sa.JSON(), nullable=False),
        sa.Column("cultural_preference", sa.String(length=10), nullable=False),
        sa.Column("cultural_background", sa.JSON(), nullable=True),
        sa.Column("wellbeing_needs", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "cultural_preference IN ('shared', 'open', 'different')",
            name=op.f("ck_participants_cultural_preference"),
        ),
        sa.CheckConstraint(
            "role IN ('mentor', 'mentee', 'both')", name=op.f("ck_participants_role")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'withdrawn')", name=op.f("ck_participants_status")
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name=op.f("ck_participants_capacity_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_participants_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_participants_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint(
            "program_id", "account_id", name=op.f("uq_participants_program_id_account_id")
        ),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participants_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_participants_program_id_role_status", ["program_id", "role", "status"], unique=False
        )

    op.create_table(
        "program_coordinators",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("appointed_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_program_coordinators_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_coordinators_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "account_id", name=op.f("pk_program_coordinators")),
    )
    with op.batch_alter_table("program_coordinators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_coordinators_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tokens_token_hash")),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tokens_account_id"), ["account_id"], unique=False)

    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("text_version", sa.String(length=40), nullable=False),
        sa.Column("granted_at", api.adapters.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('special_category')", name=op.f("ck_consent_records_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_consent_records_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_records_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "participant_tags",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('need', 'strength')", name=op.f("ck_participant_tags_kind")),
        sa.CheckConstraint("weight BETWEEN 1 AND 3", name=op.f("ck_participant_tags_weight")),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_participant_tags_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", "kind", "tag", name=op.f("pk_participant_tags")),
    )
    with op.batch_alter_table("participant_tags", schema=None) as batch_op:
        batch_op.create_index("ix_participant_tags_tag_kind", ["tag", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("participant_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_participant_tags_tag_kind")

    op.drop_table("participant_tags")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_participant_id"))

    op.drop_table("consent_records")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_account_id"))

    op.drop_table("tokens")
    with op.batch_alter_table("program_coordinators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_coordinators_account_id"))

    op.drop_table("program_coordinators")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_program_id_role_status")
        batch_op.drop_index(batch_op.f("ix_participants_account_id"))

    op.drop_table("participants")
    op.drop_table("programs")
    op.drop_table("accounts")
