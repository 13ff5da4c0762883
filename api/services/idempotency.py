"""Idempotency-Key support: the first successful response is stored and replayed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.adapters.models import IdempotencyRecord
from api.errors import ValidationFailed


def find(session: Session, account_id: int, key: str, fingerprint: str) -> dict[str, Any] | None:
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_fingerprint != fingerprint:
        raise ValidationFailed(
            {"header.Idempotency-Key": ["This key was used for a different request."]}
        )
    return dict(record.body)


def store(
    session: Session, account_id: int, key: str, fingerprint: str, body: dict[str, Any]
) -> None:
    session.add(
        IdempotencyRecord(
            account_id=account_id,
            key=key,
            request_fingerprint=fingerprint,
            status_code=200,
            body=body,
        )
    )
