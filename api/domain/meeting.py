"""A pair's first meeting: the start of their longest common weekly window, as iCalendar.

Each person's availability is a list of weekly windows in their own time zone. The
windows of the coming week are placed on real dates (so a daylight-saving change that
week is honoured), intersected, and the longest common stretch wins (the earliest of
equally long ones). The `.ics` proposes it weekly for the relationship's length, written
in the recipient's own time zone with a VTIMEZONE built from the zone database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from api.domain.values import DAYS, minutes

#: Longest a proposed meeting lasts (a longer common window proposes this much of it).
MEETING_MINUTES = 60
#: A first meeting is proposed no sooner than this after the match became active.
LEAD = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Meeting:
    start: dt.datetime  # UTC
    minutes: int  # of the meeting (at most MEETING_MINUTES)
    window_minutes: int  # of the common window it starts


Interval = tuple[dt.datetime, dt.datetime]


def _intervals(
    windows: Iterable[Mapping[str, str]], tz_name: str, start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    """The person's windows on real dates, as UTC intervals overlapping [start, end)."""
    tz = ZoneInfo(tz_name)
    first = start.astimezone(tz).date() - dt.timedelta(days=1)
    out: list[Interval] = []
    for offset in range((end - start).days + 3):
        day = first + dt.timedelta(days=offset)
        name = DAYS[day.weekday()]
        for w in windows:
            if w["day"] != name:
                continue
            midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
            lo = _local(midnight, minutes(w["start"]), tz)
            hi = _local(midnight, minutes(w["end"]), tz)
            lo, hi = max(lo, start), min(hi, end)
            if lo < hi:
                out.append((lo, hi))
    return sorted(out)


def _local(midnight: dt.datetime, minute: int, tz: ZoneInfo) -> dt.datetime:
    # Wall-clock time of that day (24:00 is the next midnight), then UTC.
    naive = midnight.replace(tzinfo=None) + dt.timedelta(minutes=minute)
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def _intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def first_meeting(
    a_windows: Iterable[Mapping[str, str]],
    a_tz: str | None,
    b_windows: Iterable[Mapping[str, str]],
    b_tz: str | None,
    after: dt.datetime,
) -> Meeting | None:
    """The start of the longest common window in the week after `after` + LEAD."""
    if not a_tz or not b_tz:
        return None
    start = after.astimezone(dt.UTC) + LEAD
    end = start + dt.timedelta(days=7)
    common = _intersect(
        _intervals(list(a_windows), a_tz, start, end),
        _intervals(list(b_windows), b_tz, start, end),
    )
    if not common:
        return None
    lo, hi = max(common, key=lambda iv: (iv[1] - iv[0], -iv[0].timestamp()))
    length = int((hi - lo).total_seconds() // 60)
    return Meeting(start=lo, minutes=min(length, MEETING_MINUTES), window_minutes=length)


# --- iCalendar (RFC 5545) -------------------------------------------------------------


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with a leading space (RFC 5545 3.1)."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _offset(delta: dt.timedelta | None) -> str:
    seconds = int((delta or dt.timedelta(0)).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}{seconds % 3600 // 60:02d}"


def _transitions(tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """UTC instants in [start, end) at which the zone's offset changes."""
    found = []
    step = dt.timedelta(hours=1)
    t = start
    before = t.astimezone(tz).utcoffset()
    while t < end:
        after = (t + step).astimezone(tz).utcoffset()
        if after != before:
            lo, hi = t, t + step  # offset(lo) == before, offset(hi) == after
            while hi - lo > dt.timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == before:
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(second=0, microsecond=0))
            before = after
        t += step
    return found


def _vtimezone(tz_name: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    tz = ZoneInfo(tz_name)
    first = start.astimezone(tz)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tz_name}"]

    def component(onset_local: str, frm: dt.timedelta | None, local: dt.datetime) -> None:
        kind = "DAYLIGHT" if local.dst() else "STANDARD"
        lines.extend(
            [
                f"BEGIN:{kind}",
                f"DTSTART:{onset_local}",
                f"TZOFFSETFROM:{_offset(frm)}",
                f"TZOFFSETTO:{_offset(local.utcoffset())}",
                f"TZNAME:{local.tzname() or tz_name}",
                f"END:{kind}",
            ]
        )

    component("19700101T000000", first.utcoffset(), first)
    for instant in _transitions(tz, start, end):
        previous = (instant - dt.timedelta(minutes=1)).astimezone(tz).utcoffset()
        local = instant.astimezone(tz)
        # DTSTART of an onset is the local time in the offset in force before it.
        onset = (instant + (previous or dt.timedelta(0))).replace(tzinfo=None)
        component(onset.strftime("%Y%m%dT%H%M%S"), previous, local)
    lines.append("END:VTIMEZONE")
    return lines


def ics(
    meeting: Meeting,
    *,
    uid: str,
    tz_name: str,
    summary: str,
    description: str,
    weeks: int,
    stamp: dt.datetime,
) -> str:
    """A weekly meeting series starting at `meeting`, written in the zone `tz_name`."""
    series_end = meeting.start + dt.timedelta(weeks=weeks, days=1)
    local = meeting.start.astimezone(ZoneInfo(tz_name))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//peermatch//first meeting//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        *_vtimezone(tz_name, meeting.start - dt.timedelta(days=1), series_end),
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}",
        f"DTSTART;TZID={tz_name}:{local.strftime('%Y%m%dT%H%M%S')}",
        f"DURATION:PT{meeting.minutes}M",
        f"RRULE:FREQ=WEEKLY;COUNT={weeks}",
        f"SUMMARY:{_escape(summary)}",
        f"DESCRIPTION:{_escape(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
