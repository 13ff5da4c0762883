"""relationship health: fit answers, concerns, closing surveys, pause and resume

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:20:00.000000

The fit check's answers, the concerns partners raise (coordinators only), the closing
surveys of ended matches; when a match's fit check was asked and whether it is paused;
when a drained mentor resumed; the new message kinds and the capacity link.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.adapters.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = (
    "'proposal', 'partner_answered', 'active', 'reminder', 'expired', 'cancelled', 'ended', "
    "'check_in_due', 'digest', 'invitation', 'password_reset'"
)
_NEW_KINDS = (
    ", 'fit_check', 'quiet_nudge', 'concern_raised', 'capacity_question', 'mentor_drained', "
    "'closing_survey'"
)
_PURPOSES = "'invitation', 'password_reset', 'match_answer', 'unsubscribe'"
_NEW_PURPOSES = ", 'lower_capacity'"


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, api.adapters.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "fit_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("author_side", sa.String(length=10), nullable=False),
        sa.Column("answer", sa.String(length=12), nullable=False),
        _when("created_at", nullable=False),
        sa.CheckConstraint(
            "answer IN ('good_fit', 'not_sure', 'not_a_fit', 'not_met_yet')",
            name=op.f("ck_fit_answers_answer"),
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_fit_answers_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fit_answers")),
    )
    with op.batch_alter_table("fit_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fit_answers_match_id"), ["match_id"], unique=False)

    op.create_table(
        "concerns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("raised_by", sa.Integer(), nullable=False),
        sa.Column("raiser_side", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("pause", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("coordinator_note", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        _when("resolved_at"),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "category IN ('boundaries', 'power_imbalance', 'conduct', 'workload', 'safety', "
            "'other')",
            name=op.f("ck_concerns_category"),
        ),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_concerns_status")),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('resolved_with_pair', 'relationship_resumed', "
            "'relationship_ended', 'referred', 'no_action_needed')",
            name=op.f("ck_concerns_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_concerns_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_concerns_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["raised_by"],
            ["participants.id"],
            name=op.f("fk_concerns_raised_by_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["accounts.id"],
            name=op.f("fk_concerns_resolved_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concerns")),
    )
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concerns_match_id"), ["match_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_raised_by"), ["raised_by"], unique=False)
        batch_op.create_index(
            "ix_concerns_program_id_status", ["program_id", "status"], unique=False
        )

    op.create_table(
        "closing_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_side", sa.String(length=10), nullable=False),
        sa.Column("goals", sa.Integer(), nullable=False),
        sa.Column("recommend", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _when("created_at", nullable=False),
        sa.CheckConstraint("goals BETWEEN 1 AND 5", name=op.f("ck_closing_surveys_goals")),
        sa.CheckConstraint("recommend BETWEEN 1 AND 5", name=op.f("ck_closing_surveys_recommend")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["participants.id"],
            name=op.f("fk_closing_surveys_author_id_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_closing_surveys_match_id_matches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_closing_surveys_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closing_surveys")),
        sa.UniqueConstraint(
            "match_id", "author_side", name=op.f("uq_closing_surveys_match_id_author_side")
        ),
    )
    with op.batch_alter_table("closing_surveys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_closing_surveys_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_closing_surveys_program_id"), ["program_id"], unique=False
        )

    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(_when("fit_check_asked_at"))
        batch_op.add_column(_when("paused_at"))
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(_when("resumed_at"))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_kind"), f"kind IN ({_KINDS}{_NEW_KINDS})"
        )
    with op.batch_alter_table("link_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_link_tokens_purpose"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_link_tokens_purpose"), f"purpose IN ({_PURPOSES}{_NEW_PURPOSES})"
        )


def downgrade() -> None:
    op.execute("DELETE FROM link_tokens WHERE purpose = 'lower_capacity'")
    op.execute(f"DELETE FROM outbox_messages WHERE kind IN ({_NEW_KINDS.removeprefix(', ')})")
    with op.batch_alter_table("link_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_link_tokens_purpose"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_link_tokens_purpose"), f"purpose IN ({_PURPOSES})"
        )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_messages_kind"), f"kind IN ({_KINDS})")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("resumed_at")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
        batch_op.drop_column("fit_check_asked_at")
    with op.batch_alter_table("closing_surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closing_surveys_program_id"))
        batch_op.drop_index(batch_op.f("ix_closing_surveys_author_id"))
    op.drop_table("closing_surveys")
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.drop_index("ix_concerns_program_id_status")
        batch_op.drop_index(batch_op.f("ix_concerns_raised_by"))
        batch_op.drop_index(batch_op.f("ix_concerns_match_id"))
    op.drop_table("concerns")
    with op.batch_alter_table("fit_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fit_answers_match_id"))
    op.drop_table("fit_answers")
