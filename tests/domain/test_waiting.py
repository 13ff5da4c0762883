"""The queue's rule: whose waiting starts again, and who keeps their place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.domain.waiting import ClosedMatch, failed_through_no_fault, waiting_days

JOINED = datetime(2026, 1, 1, tzinfo=UTC)
NOW = JOINED + timedelta(days=30)


def closed(status: str, by: str | None, accepted: bool = False) -> ClosedMatch:
    # Proposed on day 10, closed on day 20.
    return ClosedMatch(
        status=status,
        closed_by=by,
        proposed_at=JOINED + timedelta(days=10),
        closed_at=JOINED + timedelta(days=20),
        mentee_accepted=accepted,
    )


def test_waiting_counts_from_eligibility() -> None:
    assert waiting_days(JOINED, [], NOW) == 30


@pytest.mark.parametrize(
    "match",
    [
        closed("declined", "mentee"),
        closed("ended", "mentee"),
        closed("expired", "system", accepted=False),  # the mentee never answered
    ],
)
def test_a_match_the_mentee_closed_starts_their_waiting_again(match: ClosedMatch) -> None:
    assert waiting_days(JOINED, [match], NOW) == 10
    assert not failed_through_no_fault([match], None)


@pytest.mark.parametrize(
    "match",
    [
        closed("declined", "mentor"),
        closed("ended", "mentor"),
        closed("expired", "system", accepted=True),  # the mentor never answered
        closed("cancelled", "coordinator"),
        closed("ended", "system"),  # the partner erased their account
    ],
)
def test_a_match_that_failed_through_no_fault_keeps_the_place(match: ClosedMatch) -> None:
    # Ten days before the match and ten after it count; the ten inside it do not.
    assert waiting_days(JOINED, [match], NOW) == 20
    assert failed_through_no_fault([match], None)
    assert failed_through_no_fault([match], JOINED + timedelta(days=19))
    assert not failed_through_no_fault([match], JOINED + timedelta(days=21))
