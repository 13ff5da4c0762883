"""A pair's first meeting and its calendar file."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.domain import meeting

MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)  # a Monday


def w(day: str, start: str, end: str) -> dict[str, str]:
    return {"day": day, "start": start, "end": end}


def test_the_first_meeting_is_the_start_of_the_longest_common_window():
    berlin = [w("tue", "18:00", "19:30"), w("thu", "12:00", "13:00")]
    new_york = [w("tue", "12:00", "14:00"), w("thu", "06:00", "06:30")]
    found = meeting.first_meeting(berlin, "Europe/Berlin", new_york, "America/New_York", MONDAY)
    assert found is not None
    local = found.start.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.strftime("%a %H:%M"), found.window_minutes, found.minutes) == (
        "Tue 18:00",
        90,
        60,
    )
    assert found.start.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "12:00"


def test_no_common_time_proposes_no_meeting():
    assert (
        meeting.first_meeting(
            [w("mon", "08:00", "09:00")], "UTC", [w("fri", "08:00", "09:00")], "UTC", MONDAY
        )
        is None
    )
    assert meeting.first_meeting([], None, [], "UTC", MONDAY) is None


def test_a_daylight_saving_change_that_week_is_honoured():
    # Europe leaves summer time on Sunday 25 October 2026; New York a week later.
    before = dt.datetime(2026, 10, 24, 9, 0, tzinfo=dt.UTC)
    found = meeting.first_meeting(
        [w("tue", "18:00", "19:00")],
        "Europe/Berlin",
        [w("tue", "00:00", "24:00")],
        "America/New_York",
        before,
    )
    assert found is not None
    assert found.start == dt.datetime(2026, 10, 27, 17, 0, tzinfo=dt.UTC)  # 18:00 CET


def test_the_calendar_is_written_in_the_readers_zone_with_its_transitions():
    start = dt.datetime(2027, 3, 2, 17, 0, tzinfo=dt.UTC)
    text = meeting.ics(
        meeting.Meeting(start, 60, 90),
        uid="match-1@peermatch",
        tz_name="Europe/Berlin",
        summary="Mentoring: Ana, Ben; and a very long name " + "x" * 80,
        description="Line one\nline two",
        weeks=12,
        stamp=start,
    )
    lines = text.split("\r\n")
    assert "DTSTART;TZID=Europe/Berlin:20270302T180000" in lines
    assert "RRULE:FREQ=WEEKLY;COUNT=12" in lines
    # Summer time starts on 28 March 2027, inside the 12 weeks: its onset is listed.
    assert "DTSTART:20270328T020000" in lines and "TZOFFSETTO:+0200" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "SUMMARY:Mentoring: Ana\\, Ben\\; and a very" in text
    assert "DESCRIPTION:Line one\\nline two" in text
