"""A cohort of realistic shape, as a `matcher.Problem` (numpy and the matcher only).

Skewed topic and language frequencies, 3-6 time zones with evening, lunch and weekend
windows on half-hour boundaries, capacities 1-5 with some current load, a management
hierarchy, optional cultural tags, a quarter of the mentees having waited; a few people
are both mentor and mentee, a few pins, forbids and previous pairs. Deterministic for a
seed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from matcher import Mentee, Mentor, Problem, Settings, Window

ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Asia/Singapore",
    "America/Los_Angeles",
)
SECOND_LANGUAGES = ("de", "fr", "es", "hi", "pt", "zh", "ar")
CULTURE_TAGS = tuple(f"culture-{k}" for k in range(12))
TOPICS = tuple(f"topic-{k}" for k in range(40))
REFERENCE_DATE = dt.date(2025, 3, 10)  # between the US and EU daylight-saving switches


def _zipf(rng: np.random.Generator, count: int, exponent: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1) ** exponent
    return weights / weights.sum()


def _windows(rng: np.random.Generator) -> tuple[Window, ...]:
    out: list[Window] = []
    for _ in range(int(rng.integers(2, 6))):
        kind = rng.random()
        if kind < 0.5:  # weekday evening
            day = int(rng.integers(0, 5))
            start = int(rng.integers(34, 41)) * 30  # 17:00 .. 20:00
            length = int(rng.integers(2, 7)) * 30
        elif kind < 0.8:  # weekday working hours / lunch
            day = int(rng.integers(0, 5))
            start = int(rng.integers(16, 34)) * 30  # 08:00 .. 16:30
            length = int(rng.integers(2, 5)) * 30
        else:  # weekend morning or afternoon
            day = int(rng.integers(5, 7))
            start = int(rng.integers(18, 32)) * 30
            length = int(rng.integers(2, 9)) * 30
        out.append(Window(day, start, min(start + length, 1440)))
    return tuple(out)


def cohort(n_mentees: int, n_mentors: int, seed: int = 0) -> Problem:
    """Generate a cohort of realistic shape.

    Parameters
    ----------
    n_mentees, n_mentors : int
        Side sizes.
    seed : int
        Random seed.

    Returns
    -------
    Problem
        Mentees, mentors, settings and a few pins, forbids and previous pairs.
    """
    rng = np.random.default_rng(seed)
    zones = list(rng.choice(ZONES, size=int(rng.integers(3, 7)), replace=False))
    zone_p = rng.dirichlet(np.full(len(zones), 2.0))
    topic_p = _zipf(rng, len(TOPICS))
    lang_p = _zipf(rng, len(SECOND_LANGUAGES), 1.3)
    culture_p = _zipf(rng, len(CULTURE_TAGS), 1.2)
    n_managers = max(1, (n_mentees + n_mentors) // 12)

    def common(pid: int) -> dict[str, object]:
        languages = {"en"} if rng.random() < 0.92 else set()
        if rng.random() < 0.4 or not languages:
            languages.add(str(rng.choice(SECOND_LANGUAGES, p=lang_p)))
        consent = rng.random() < 0.6
        tags = (
            frozenset(
                rng.choice(CULTURE_TAGS, size=int(rng.integers(1, 3)), replace=False, p=culture_p)
            )
            if consent
            else frozenset()
        )
        roll = rng.random()
        preference = "open" if roll < 0.7 else ("shared" if roll < 0.9 else "different")
        return {
            "languages": frozenset(languages),
            "timezone": str(rng.choice(zones, p=zone_p)),
            "availability": _windows(rng),
            "org_unit": f"unit-{int(rng.integers(0, 30))}",
            "email": f"person{pid}@example.org",
            "manager_email": f"person{int(rng.integers(1, n_managers + 1))}@example.org",
            "cultural_tags": tags,
            "cultural_preference": preference,
        }

    mentees: list[Mentee] = []
    for pid in range(1, n_mentees + 1):
        k = int(rng.integers(1, 5))
        topics = rng.choice(TOPICS, size=k, replace=False, p=topic_p)
        waited = rng.random() < 0.25
        mentees.append(
            Mentee(
                id=pid,
                needs=tuple((str(t), int(rng.integers(1, 4))) for t in topics),
                experience_level=int(rng.integers(1, 4)),
                preferred_partners=frozenset(),
                waiting_days=float(rng.integers(1, 61)) if waited else 0.0,
                **common(pid),  # type: ignore[arg-type]
            )
        )
    mentors: list[Mentor] = []
    taken: set[int] = set()
    for k in range(n_mentors):
        # About 5% of mentors are also mentees (same participant id).
        pid = int(rng.integers(1, n_mentees + 1)) if rng.random() < 0.05 else n_mentees + 1 + k
        if pid in taken:
            pid = n_mentees + 1 + k
        taken.add(pid)
        s = int(rng.integers(2, 7))
        topics = rng.choice(TOPICS, size=s, replace=False, p=topic_p)
        capacity = int(rng.choice([1, 2, 3, 4, 5], p=[0.2, 0.3, 0.25, 0.15, 0.1]))
        load = int(rng.integers(0, capacity)) if rng.random() < 0.2 else 0
        mentors.append(
            Mentor(
                id=pid,
                strengths=tuple((str(t), int(rng.integers(1, 4))) for t in topics),
                experience_level=int(rng.integers(2, 6)),
                capacity=capacity,
                current_load=load,
                paused=bool(rng.random() < 0.03),
                preferred_partners=(
                    frozenset({int(rng.integers(1, n_mentees + 1))})
                    if rng.random() < 0.05
                    else frozenset()
                ),
                **common(pid),  # type: ignore[arg-type]
            )
        )
    mentor_ids = [m.id for m in mentors]
    previous = tuple(
        (int(rng.integers(1, n_mentees + 1)), int(rng.choice(mentor_ids)))
        for _ in range(n_mentees // 50)
    )
    forbids = tuple(
        (int(rng.integers(1, n_mentees + 1)), int(rng.choice(mentor_ids)))
        for _ in range(n_mentees // 200)
    )
    pinned = rng.choice(np.arange(1, n_mentees + 1), size=n_mentees // 500, replace=False)
    pins = tuple((int(e), int(rng.choice(mentor_ids))) for e in pinned)
    return Problem(
        mentees=tuple(mentees),
        mentors=tuple(mentors),
        settings=Settings(
            reference_date=REFERENCE_DATE,
            min_overlap_minutes=60,
            target_overlap_minutes=180,
            waiting_class_days=7.0,
        ),
        pins=pins,
        forbids=forbids,
        previous_pairs=previous,
    )
