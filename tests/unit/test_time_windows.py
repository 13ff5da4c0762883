"""Weekly windows: parsing, conversion to UTC week minutes, pairwise overlap."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import Window
from matcher.timewindows import parse_clock, segment_cover, utc_intervals
from tests.unit.helpers import MONDAY, ZONES, windows

DAY = 1440
WEEK = 7 * DAY


@pytest.mark.parametrize(
    ("text", "minutes"), [("00:00", 0), ("09:30", 570), (" 7:05 ", 425), ("24:00", 1440), (90, 90)]
)
def test_clock_times_parse_to_minutes(text: str | int, minutes: int) -> None:
    assert parse_clock(text, "t") == minutes


def test_a_winter_berlin_morning_is_an_hour_earlier_in_utc() -> None:
    assert utc_intervals((Window(0, "09:00", "10:00"),), "Europe/Berlin", MONDAY, "w") == [
        (8 * 60, 9 * 60)
    ]


def test_half_hour_offsets_are_exact() -> None:
    # Kolkata is UTC+05:30 all year: Monday 06:00-07:00 is Monday 00:30-01:30 UTC.
    assert utc_intervals((Window(0, "06:00", "07:00"),), "Asia/Kolkata", MONDAY, "w") == [(30, 90)]


def test_a_window_crossing_the_end_of_the_utc_week_is_split() -> None:
    # Tokyo Monday 08:00-10:00 is Sunday 23:00 - Monday 01:00 UTC.
    assert utc_intervals((Window(0, "08:00", "10:00"),), "Asia/Tokyo", MONDAY, "w") == [
        (WEEK - 60, WEEK),
        (0, 60),
    ]


def test_a_window_ending_before_it_starts_runs_past_local_midnight() -> None:
    assert utc_intervals((Window(4, "22:00", "01:00"),), "UTC", MONDAY, "w") == [
        (4 * DAY + 22 * 60, 5 * DAY + 60)
    ]
    assert utc_intervals((Window(6, "23:00", "24:00"),), "UTC", MONDAY, "w") == [
        (6 * DAY + 23 * 60, WEEK)
    ]


def test_daylight_saving_follows_the_reference_date() -> None:
    window = (Window(0, "09:00", "10:00"),)
    # New York: EST (UTC-5) on 3 March 2025, EDT (UTC-4) from 9 March 2025.
    assert utc_intervals(window, "America/New_York", dt.date(2025, 3, 3), "w") == [(840, 900)]
    assert utc_intervals(window, "America/New_York", dt.date(2025, 3, 10), "w") == [(780, 840)]
    # Each weekday is placed on or after the reference date: a Wednesday reference puts
    # Monday in the following week.
    assert utc_intervals(window, "America/New_York", dt.date(2025, 3, 5), "w") == [(780, 840)]


def test_a_window_spanning_a_daylight_saving_switch_has_its_real_length() -> None:
    # Berlin switches 02:00 CET -> 03:00 CEST on Sunday 30 March 2025: 01:00-04:00 local
    # lasts two hours (00:00-02:00 UTC).
    sunday = (Window(6, "01:00", "04:00"),)
    assert utc_intervals(sunday, "Europe/Berlin", dt.date(2025, 3, 24), "w") == [
        (6 * DAY, 6 * DAY + 120)
    ]
    # A window entirely inside the skipped hour does not exist.
    gap = (Window(6, "02:30", "03:00"),)
    assert utc_intervals(gap, "Europe/Berlin", dt.date(2025, 3, 24), "w") == []


def reference_minutes(
    person_windows: tuple[Window, ...], zone: str, reference: dt.date
) -> set[int]:
    """UTC week minutes covered, by walking every minute of every window."""
    epoch = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)
    covered: set[int] = set()
    tz = ZoneInfo(zone)
    for w in person_windows:
        start = parse_clock(w.start, "s")
        end = parse_clock(w.end, "e")
        day = reference + dt.timedelta(days=(w.weekday - reference.weekday()) % 7)
        midnight = dt.datetime.combine(day, dt.time())
        begin = (midnight + dt.timedelta(minutes=start)).replace(tzinfo=tz)
        stop_minutes = end if end > start else end + DAY
        finish = (midnight + dt.timedelta(minutes=stop_minutes)).replace(tzinfo=tz)
        t = begin.astimezone(dt.UTC)
        while t < finish.astimezone(dt.UTC):
            covered.add(int((t - epoch).total_seconds() // 60) % WEEK)
            t += dt.timedelta(minutes=1)
    return covered


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(windows(), st.sampled_from(ZONES)), min_size=1, max_size=3),
    st.lists(st.tuples(windows(), st.sampled_from(ZONES)), min_size=1, max_size=3),
    st.sampled_from([MONDAY, dt.date(2025, 3, 10), dt.date(2025, 3, 27), dt.date(2025, 10, 29)]),
)
def test_overlap_matrix_equals_a_minute_by_minute_count(
    left: list[tuple[tuple[Window, ...], str]],
    right: list[tuple[tuple[Window, ...], str]],
    reference: dt.date,
) -> None:
    left_iv = [utc_intervals(w, z, reference, "l") for w, z in left]
    right_iv = [utc_intervals(w, z, reference, "r") for w, z in right]
    cover_l, cover_r, lengths = segment_cover(left_iv, right_iv)
    assert int(lengths.sum()) == WEEK
    overlap = cover_l @ cover_r.T
    for i, (wl, zl) in enumerate(left):
        minutes_l = reference_minutes(wl, zl, reference)
        assert float(cover_l[i].sum()) == len(minutes_l)
        for j, (wr, zr) in enumerate(right):
            expected = len(minutes_l & reference_minutes(wr, zr, reference))
            assert overlap[i, j] == np.float32(expected)
