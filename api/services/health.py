"""Readiness: database reachable and migrated to head."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.adapters import migrate
from api.errors import ApiError


class NotReady(ApiError):
    status = 503
    title = "Not ready"
    slug = "not-ready"


def readiness(session: Session) -> dict[str, Any]:
    head = migrate.head_revision()
    try:
        conn = session.connection()
        conn.execute(text("SELECT 1"))
        current = migrate.current_revision(conn)
    except SQLAlchemyError as exc:
        raise NotReady("The database is unreachable.", database="unreachable") from exc
    if current != head:
        raise NotReady(
            "The database schema is not at the latest migration; run `peermatch db upgrade`.",
            database="reachable",
            revision=current,
            head=head,
        )
    return {"status": "ready", "database": "reachable", "revision": current, "head": head}
