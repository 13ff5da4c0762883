"""The transition tables of a match and a round."""

from __future__ import annotations

import datetime as dt

import pytest

from api.domain.errors import IllegalTransition
from api.domain.lifecycle import MATCH, ROUND
from api.domain.vocabulary import MatchStatus, RoundStatus

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("status", "event", "target"),
    [
        ("proposed", "accept", "accepted"),
        ("accepted", "accept", "accepted"),
        ("accepted", "activate", "active"),
        ("proposed", "decline", "declined"),
        ("accepted", "expire", "expired"),
        ("proposed", "cancel", "cancelled"),
        ("active", "end", "ended"),
        ("active", "close_on_erasure", "ended"),
    ],
)
def test_a_match_moves_only_along_its_table(status, event, target):
    assert MATCH.target(status, event) == target


@pytest.mark.parametrize(
    ("status", "event"),
    [
        ("active", "accept"),
        ("declined", "accept"),
        ("expired", "decline"),
        ("proposed", "end"),
        ("ended", "end"),
        ("active", "cancel"),
        ("cancelled", "activate"),
    ],
)
def test_an_event_the_status_does_not_allow_is_refused_with_the_status_found(status, event):
    with pytest.raises(IllegalTransition) as raised:
        MATCH.target(status, event, entity_id=7)
    assert raised.value.status == status and raised.value.entity_id == 7


def test_closed_matches_and_finished_rounds_accept_no_event():
    closed = {MatchStatus.ENDED, MatchStatus.DECLINED, MatchStatus.EXPIRED, MatchStatus.CANCELLED}
    for status in closed:
        assert not any(MATCH.allows(status, e) for e in MATCH.transitions), status
    for status in (RoundStatus.PUBLISHED, RoundStatus.DISCARDED):
        assert not any(ROUND.allows(status, e) for e in ROUND.transitions), status


def test_a_round_runs_once_and_only_a_proposed_round_publishes():
    assert ROUND.target("queued", "run") == "running"
    assert ROUND.target("running", "propose") == "proposed"
    assert ROUND.target("proposed", "publish") == "published"
    for status in ("queued", "running", "failed", "discarded", "published"):
        assert not ROUND.allows(status, "publish"), status
    assert not ROUND.allows("running", "run")
    assert not ROUND.allows("running", "discard")


def test_every_status_is_reachable_and_every_event_names_its_statuses():
    for lifecycle, statuses in ((MATCH, MatchStatus), (ROUND, RoundStatus)):
        targets = {t.target for t in lifecycle.transitions.values()}
        assert targets == set(statuses), lifecycle.entity
        for transition in lifecycle.transitions.values():
            assert set(transition.sources) <= set(statuses)


def test_an_event_says_what_changed_for_its_listeners():
    event = MATCH.event("accept", 3, NOW, source="proposed", actor="mentee", program_id=1)
    assert (event.key, event.entity_id, event.target, event.actor) == (
        "match.accept",
        3,
        "accepted",
        "mentee",
    )
