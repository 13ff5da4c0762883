"""Weekly availability windows: parsing, conversion to UTC, pairwise overlap.

A window is given in the person's local wall-clock time. It is placed on the
first date with its weekday on or after the reference date, converted to UTC
with that date's offset (so daylight saving in force that week is honoured),
and folded onto a UTC week of 10,080 minutes starting Monday 00:00 UTC.

Overlap between every mentee and every mentor is then one matrix product: the
week is cut at every window end point of anyone, each person covers a subset
of those elementary segments, and ``overlap = (cover_e * length) @ cover_m.T``.
All entries are integers below 2**24, so float32 arithmetic is exact.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from matcher.errors import MatcherError
from matcher.model import Window
from matcher.types import Float32Array, IntArray

WEEK_MINUTES = 7 * 24 * 60
DAY_MINUTES = 24 * 60
# A Monday, 00:00 UTC: UTC week minutes are counted from here modulo one week.
_EPOCH = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")

Interval = tuple[int, int]


def parse_clock(value: object, field: str) -> int:
    """Parse a local time of day into minutes after midnight.

    Parameters
    ----------
    value : str or int
        ``"HH:MM"`` (``"24:00"`` allowed) or minutes 0..1440.
    field : str
        Dotted input path used in the error message.

    Returns
    -------
    int
        Minutes after local midnight, 0..1440.

    Raises
    ------
    MatcherError
        When the value does not parse or lies outside the day.
    """
    if isinstance(value, bool):
        raise MatcherError(f"{field}: expected 'HH:MM' or minutes, got {value!r}", field=field)
    if isinstance(value, int):
        minutes = value
    elif isinstance(value, str):
        match = _CLOCK.match(value)
        if match is None:
            raise MatcherError(
                f"{field}: cannot parse time {value!r}, expected 'HH:MM'", field=field
            )
        hours, mins = int(match.group(1)), int(match.group(2))
        if mins >= 60:
            raise MatcherError(f"{field}: minutes out of range in {value!r}", field=field)
        minutes = hours * 60 + mins
    else:
        raise MatcherError(
            f"{field}: expected 'HH:MM' or minutes, got {type(value).__name__}", field=field
        )
    if not 0 <= minutes <= DAY_MINUTES:
        raise MatcherError(f"{field}: time {value!r} is outside 00:00..24:00", field=field)
    return minutes


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """Return the time zone ``name`` (cached).

    Parameters
    ----------
    name : str
        IANA time zone name.

    Returns
    -------
    zoneinfo.ZoneInfo
        The zone.

    Raises
    ------
    MatcherError
        When the name is not a known IANA zone.
    """
    if not isinstance(name, str) or not name or name != name.strip():
        raise MatcherError(f"unknown time zone {name!r}", field="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise MatcherError(f"unknown time zone {name!r}", field="timezone") from exc


@lru_cache(maxsize=65536)
def _utc_minutes(tz_name: str, day: dt.date, minute: int) -> int:
    # Minutes since _EPOCH of local `day` + `minute` (minute may reach 2880).
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    aware = local.replace(tzinfo=zone(tz_name))
    return int((aware - _EPOCH).total_seconds() // 60)


def utc_intervals(
    windows: Sequence[Window], tz_name: str, reference_date: dt.date, field: str
) -> list[Interval]:
    """Convert local weekly windows to half-open UTC week intervals.

    Parameters
    ----------
    windows : sequence of Window
        Local windows of one person.
    tz_name : str
        The person's IANA time zone.
    reference_date : datetime.date
        Each window is placed on the first date with its weekday on or after it.
    field : str
        Dotted input path of the windows, for error messages.

    Returns
    -------
    list of (int, int)
        ``[start, end)`` minute intervals with ``0 <= start < end <= 10080``;
        a window crossing the end of the UTC week is split in two. Windows
        are not merged (the overlap computation takes their union).

    Raises
    ------
    MatcherError
        On a window that does not parse or is empty, or an unknown time zone.
    """
    try:
        zone(tz_name)
    except MatcherError as exc:
        raise MatcherError(exc.message, field=field.rsplit(".", 1)[0] + ".timezone") from None
    out: list[Interval] = []
    for k, window in enumerate(windows):
        wfield = f"{field}[{k}]"
        if not isinstance(window, Window):
            raise MatcherError(f"{wfield}: expected a Window", field=wfield)
        weekday = window.weekday
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise MatcherError(
                f"{wfield}.weekday: expected 0 (Monday) .. 6 (Sunday), got {weekday!r}",
                field=f"{wfield}.weekday",
            )
        start = parse_clock(window.start, f"{wfield}.start")
        end = parse_clock(window.end, f"{wfield}.end")
        if start == DAY_MINUTES:
            raise MatcherError(f"{wfield}.start: a window cannot start at 24:00", field=wfield)
        if start == end:
            raise MatcherError(f"{wfield}: empty window ({start} == {end})", field=wfield)
        if end < start:
            end += DAY_MINUTES  # runs past local midnight into the next day
        day = reference_date + dt.timedelta(days=(weekday - reference_date.weekday()) % 7)
        a = _utc_minutes(tz_name, day, start)
        b = _utc_minutes(tz_name, day, end)
        if b <= a:  # a window swallowed by a daylight-saving jump
            continue
        a_week = a % WEEK_MINUTES
        b_week = a_week + (b - a)
        if b_week <= WEEK_MINUTES:
            out.append((a_week, b_week))
        else:
            out.append((a_week, WEEK_MINUTES))
            out.append((0, b_week - WEEK_MINUTES))
    return out


def segment_cover(
    mentee_intervals: Sequence[Sequence[Interval]],
    mentor_intervals: Sequence[Sequence[Interval]],
) -> tuple[Float32Array, Float32Array, IntArray]:
    """Cut the week at every interval end point and mark who covers what.

    Parameters
    ----------
    mentee_intervals, mentor_intervals : sequence of sequences of (int, int)
        UTC week intervals per person, from :func:`utc_intervals`.

    Returns
    -------
    mentee_cover : ndarray of float32, shape (n, S)
        Segment length where the mentee is available, else 0.
    mentor_cover : ndarray of float32, shape (m, S)
        1 where the mentor is available, else 0.
    lengths : ndarray of int64, shape (S,)
        Segment lengths in minutes.

    Notes
    -----
    ``mentee_cover @ mentor_cover.T`` is the weekly overlap in minutes.
    """
    points: list[int] = [0, WEEK_MINUTES]
    for person in (*mentee_intervals, *mentor_intervals):
        for a, b in person:
            points.append(a)
            points.append(b)
    bounds = np.unique(np.asarray(points, dtype=np.int64))
    lengths = np.diff(bounds)
    mentee_cover = _cover(mentee_intervals, bounds) * lengths.astype(np.float32)
    mentor_cover = _cover(mentor_intervals, bounds)
    return mentee_cover.astype(np.float32), mentor_cover, lengths


def _cover(people: Sequence[Sequence[Interval]], bounds: IntArray) -> Float32Array:
    n_segments = len(bounds) - 1
    rows: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for p, person in enumerate(people):
        for a, b in person:
            rows.append(p)
            starts.append(a)
            ends.append(b)
    diff = np.zeros((len(people), n_segments + 1), dtype=np.int32)
    if rows:
        r = np.asarray(rows, dtype=np.int64)
        ia = np.searchsorted(bounds, np.asarray(starts, dtype=np.int64))
        ib = np.searchsorted(bounds, np.asarray(ends, dtype=np.int64))
        np.add.at(diff, (r, ia), 1)
        np.add.at(diff, (r, ib), -1)
    covered = np.cumsum(diff, axis=1)[:, :n_segments] > 0
    return covered.astype(np.float32)
