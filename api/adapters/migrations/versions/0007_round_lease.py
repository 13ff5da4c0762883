"""a running round holds a lease written by its runner; attempts count its runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:20:00.000000

A round whose lease has lapsed is lost (its runner died) and is re-queued or failed.
Rounds already running when this revision is applied get a lease of one hour, the
longest an earlier worker could run a round, so that they are not taken from a runner
that is still alive; they count as their first attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import api.adapters.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("lease_expires_at", api.adapters.db.UTCDateTime(timezone=True), nullable=True)
        )
    rounds = sa.table(
        "rounds",
        sa.column("status", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("lease_expires_at", api.adapters.db.UTCDateTime(timezone=True)),
    )
    op.execute(
        rounds.update()
        .where(rounds.c.status == "running")
        .values(attempts=1, lease_expires_at=datetime.now(UTC) + timedelta(hours=1))
    )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("attempts")
