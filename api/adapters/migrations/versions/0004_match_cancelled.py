"""matches can be cancelled by a coordinator, who is then recorded as the closer

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = "status IN ('proposed', 'accepted', 'active', 'ended', 'declined', 'expired')"
_AFTER = "status IN ('proposed', 'accepted', 'active', 'ended', 'declined', 'expired', 'cancelled')"


def upgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_matches_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_matches_status"), _AFTER)
        batch_op.alter_column(
            "closed_by", existing_type=sa.String(length=10), type_=sa.String(length=16)
        )


def downgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_matches_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_matches_status"), _BEFORE)
        batch_op.alter_column(
            "closed_by", existing_type=sa.String(length=16), type_=sa.String(length=10)
        )
