#!/usr/bin/env python3
"""Generate the peermatch demo program: ``program.json`` and ``participants.json``.

Everything is drawn from one ``random.Random(SEED)`` in a fixed order and written with
stable key order and formatting, so re-running produces byte-identical files.
Standard library only.  Every person is fictional; ``example.org`` is reserved (RFC 2606).

Usage::

    python seed_data/generate.py           # (re)write the JSON files next to this script
    python seed_data/generate.py --check   # exit 1 if the files on disk are out of date
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SEED = 20260112
OUT_DIR = Path(__file__).resolve().parent
DOMAIN = "example.org"
CONSENT_TEXT_VERSION = "2026-01"

N_MENTORS = 45
N_BOTH = 8
N_MENTEES = 150
# Total mentor slots are kept inside this range so that not every mentee can be matched.
CAPACITY_RANGE = (115, 125)

PROGRAM: dict[str, Any] = {
    "name": "Global Engineering Peer Mentoring 2026",
    "slug": "global-eng-2026",
    "description": (
        "A twelve-week peer mentoring cohort for engineers in eight org units across five "
        "continents. Mentees bring goals such as career growth, public speaking and "
        "leadership; mentors volunteer one or two hours a week. Pairs share a language and "
        "at least an hour of weekly availability, and never sit in the same reporting line. "
        "All participants are fictional demo data."
    ),
    "join_code": "DEMO-2026-PEERS",
}

SETTINGS: dict[str, Any] = {
    "objective": "max_participation",
    "weights": {
        "needs": 0.4,
        "availability": 0.2,
        "language": 0.1,
        "culture": 0.1,
        "experience": 0.1,
        "preference": 0.1,
    },
    "min_overlap_minutes": 60,
    "target_overlap_minutes": 180,
    "min_experience_gap": 0,
    "max_experience_gap": 3,
    "default_capacity": 2,
    "max_capacity": 5,
    "load_penalty": 0.02,
    "relationship_weeks": 12,
    "proposal_expiry_days": 7,
    "rematch_policy": "propose",
}

# tag: (demand weight among mentee needs, supply weight among mentor strengths, scarce).
# Soft skills are in high demand but few mentors offer them, and mostly at a low level;
# technical topics are the other way round.  That mismatch keeps matching interesting.
TOPICS: dict[str, tuple[float, float, bool]] = {
    "career-growth": (22, 16, False),
    "public-speaking": (15, 2, True),
    "leadership": (15, 5, True),
    "system-design": (11, 10, False),
    "promotion-readiness": (8, 3, False),
    "imposter-syndrome": (8, 3, True),
    "stakeholder-management": (7, 3, True),
    "people-management": (7, 4, True),
    "python": (6, 14, False),
    "interviewing": (5, 4, False),
    "work-life-balance": (5, 3, False),
    "machine-learning": (5, 6, False),
    "cloud-architecture": (4, 10, False),
    "negotiation": (4, 1, True),
    "technical-writing": (3, 4, False),
    "kubernetes": (3, 8, False),
    "data-engineering": (3, 8, False),
    "cross-cultural-collaboration": (3, 3, False),
    "product-thinking": (3, 3, False),
    "security": (2, 6, False),
    "frontend": (2, 6, False),
    "code-review": (2, 8, False),
    "databases": (2, 7, False),
    "devops": (2, 8, False),
    "testing": (2, 6, False),
    "returning-to-work": (2, 1, False),
    "remote-work": (2, 3, False),
    "go": (1, 5, False),
    "rust": (1, 3, False),
    "mobile-development": (1, 4, False),
    "accessibility": (1, 2, False),
    "open-source": (1, 3, False),
    "incident-management": (1, 4, False),
}
TAXONOMY = sorted(TOPICS)

TOPIC_LABELS = {
    "python": "Python",
    "kubernetes": "Kubernetes",
    "go": "Go",
    "rust": "Rust",
    "devops": "DevOps",
    "work-life-balance": "work-life balance",
    "cross-cultural-collaboration": "cross-cultural collaboration",
}


@dataclass(frozen=True)
class OrgUnit:
    name: str
    role_noun: str
    focus: str
    topics: tuple[str, ...]  # topics its people tend to be strong in
    weight: int


ORG_UNITS = (
    OrgUnit(
        "Platform Engineering", "Platform Engineer", "internal platforms",
        ("kubernetes", "cloud-architecture", "go", "devops", "system-design"), 16,
    ),
    OrgUnit(
        "Data & Analytics", "Data Engineer", "data pipelines",
        ("data-engineering", "machine-learning", "python", "databases"), 14,
    ),
    OrgUnit(
        "Mobile", "Mobile Engineer", "our mobile apps",
        ("mobile-development", "frontend", "accessibility", "testing"), 11,
    ),
    OrgUnit(
        "Payments", "Backend Engineer", "payment services",
        ("system-design", "databases", "security", "go", "testing"), 13,
    ),
    OrgUnit(
        "Security", "Security Engineer", "application security",
        ("security", "incident-management", "rust", "code-review"), 9,
    ),
    OrgUnit(
        "Developer Experience", "Developer Tools Engineer", "build and CI tooling",
        ("python", "testing", "code-review", "open-source", "technical-writing", "devops"), 9,
    ),
    OrgUnit(
        "Customer Solutions", "Solutions Engineer", "customer integrations",
        ("stakeholder-management", "public-speaking", "technical-writing", "product-thinking",
         "negotiation"), 12,
    ),
    OrgUnit(
        "Site Reliability", "Site Reliability Engineer", "production reliability",
        ("incident-management", "kubernetes", "devops", "cloud-architecture", "go"), 10,
    ),
)
UNITS_BY_NAME = {unit.name: unit for unit in ORG_UNITS}
LEVEL_PREFIX = {1: "Associate", 2: "", 3: "Senior", 4: "Staff", 5: "Principal"}


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(","))


@dataclass(frozen=True)
class Community:
    """Where a person lives and which names, languages and cultural tags fit there."""

    timezone: str
    city: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    primary: str  # main language, always spoken
    en_prob: float  # chance of also speaking English when the main language is not English
    extras: tuple[tuple[str, float], ...]  # further languages with their probabilities
    culture: tuple[str, ...]
    mentee_weight: int
    mentor_weight: int


COMMUNITIES = (
    Community(
        "Africa/Lagos", "Lagos",
        _names("Adebayo, Folake, Oluwaseun, Yetunde, Tunde, Bisola, Kayode, Funmilayo"),
        _names("Adeyemi, Balogun, Ogunleye, Olawale, Akinola, Adeleke"),
        "en", 1.0, (("yo", 0.7),), ("west-african", "yoruba"), 7, 2,
    ),
    Community(
        "Africa/Lagos", "Lagos",
        _names("Amara, Chinedu, Ngozi, Emeka, Ifeoma, Obinna, Chiamaka, Kelechi"),
        _names("Okafor, Nwosu, Eze, Okonkwo, Obi, Nwachukwu"),
        "en", 1.0, (("ig", 0.6),), ("west-african", "igbo"), 6, 2,
    ),
    Community(
        "Africa/Accra", "Accra",
        _names("Kwame, Ama, Kofi, Abena, Yaw, Akosua, Kwabena, Efua"),
        _names("Mensah, Boateng, Asante, Owusu, Osei, Agyeman"),
        "en", 1.0, (("ak", 0.6),), ("west-african", "akan"), 4, 1,
    ),
    Community(
        "Africa/Nairobi", "Nairobi",
        _names("Wanjiru, Otieno, Achieng, Kiprono, Njeri, Brian, Akinyi, Wambui, Omondi, Faith"),
        _names("Kamau, Odhiambo, Kiprop, Njoroge, Ochieng, Mutua, Wafula"),
        "en", 1.0, (("sw", 0.85),), ("east-african",), 8, 2,
    ),
    Community(
        "Africa/Johannesburg", "Johannesburg",
        _names("Thabo, Lerato, Sipho, Naledi, Anele, Zanele, Mandla, Nomsa"),
        _names("Nkosi, Dlamini, Mokoena, Khumalo, Ndlovu, Mahlangu"),
        "en", 1.0, (("zu", 0.6),), ("southern-african",), 3, 1,
    ),
    Community(
        "Asia/Kolkata", "Chennai",
        _names("Karthik, Lakshmi, Priya, Senthil, Divya, Vignesh, Meena, Arun"),
        _names("Subramanian, Raman, Krishnan, Venkatesan, Iyer, Sundaram"),
        "en", 1.0, (("ta", 0.9), ("hi", 0.2)), ("south-asian", "tamil"), 6, 2,
    ),
    Community(
        "Asia/Kolkata", "New Delhi",
        _names("Rohan, Ananya, Vikram, Neha, Aditya, Pooja, Rahul, Shreya"),
        _names("Sharma, Gupta, Verma, Agarwal, Malhotra, Kapoor"),
        "en", 1.0, (("hi", 0.95),), ("south-asian", "north-indian"), 7, 3,
    ),
    Community(
        "Asia/Kolkata", "Kolkata",
        _names("Arnab, Riya, Sourav, Moumita, Debjit, Payel"),
        _names("Chatterjee, Banerjee, Mukherjee, Das, Bose, Sen"),
        "en", 1.0, (("bn", 0.9), ("hi", 0.5)), ("south-asian", "bengali"), 4, 1,
    ),
    Community(
        "Asia/Kolkata", "Bengaluru",
        _names("Srinivas, Sneha, Harsha, Keerthi, Nikhil, Swathi, Manoj, Kavya"),
        _names("Reddy, Rao, Naidu, Gowda, Shetty, Hegde"),
        "en", 1.0, (("kn", 0.5), ("te", 0.4), ("hi", 0.3)), ("south-asian",), 7, 3,
    ),
    Community(
        "Asia/Singapore", "Singapore",
        _names("Wei Ling, Jun Jie, Hui Min, Kai Wen, Xin Yi, Jia Hao"),
        _names("Tan, Lim, Lee, Ng, Wong, Goh"),
        "en", 1.0, (("zh", 0.8),), ("southeast-asian", "chinese-singaporean"), 4, 2,
    ),
    Community(
        "Asia/Singapore", "Singapore",
        _names("Nurul, Hafiz, Siti, Farhan, Aisyah, Irfan"),
        _names("Rahman, Ismail, Hassan, Abdullah, Yusof, Salleh"),
        "en", 1.0, (("ms", 0.9),), ("southeast-asian", "malay"), 2, 1,
    ),
    Community(
        "Asia/Manila", "Manila",
        _names("Maria, Jose, Andrea, Paolo, Kristine, Miguel, Angelica, Mark"),
        _names("Santos, Reyes, Cruz, Bautista, Garcia, Mendoza, Villanueva, Ramos"),
        "en", 1.0, (("tl", 0.9),), ("southeast-asian", "filipino"), 9, 1,
    ),
    Community(
        "Asia/Tokyo", "Tokyo",
        _names("Yuki, Haruto, Aiko, Ren, Sakura, Takumi, Mei, Daiki"),
        _names("Tanaka, Sato, Suzuki, Takahashi, Watanabe, Ito, Yamamoto, Nakamura"),
        "ja", 0.2, (), ("east-asian", "japanese"), 6, 2,
    ),
    Community(
        "Australia/Sydney", "Sydney",
        _names("Olivia, Jack, Chloe, Liam, Mia, Noah, Ruby, Lachlan"),
        _names("Wilson, Taylor, Smith, Campbell, Kelly, Murphy"),
        "en", 1.0, (), ("australian",), 4, 2,
    ),
    Community(
        "Australia/Sydney", "Sydney",
        _names("Linh, Minh, Thao, Duc, Anh, Huy"),
        _names("Nguyen, Tran, Le, Pham, Vo, Hoang"),
        "en", 1.0, (("vi", 0.8),), ("vietnamese-australian",), 2, 1,
    ),
    Community(
        "Europe/London", "London",
        _names("Oliver, Amelia, Harry, Charlotte, George, Isla, Thomas, Emily, Callum, Niamh"),
        _names("Hughes, Jones, Evans, Clarke, Walker, Robinson, Wright, O'Brien, Murray"),
        "en", 1.0, (("fr", 0.1),), ("british",), 8, 5,
    ),
    Community(
        "Europe/London", "London",
        _names("Aisha, Imran, Sanjay, Priya, Zainab, Arjun, Bilal, Nadia"),
        _names("Khan, Patel, Hussain, Shah, Ahmed, Mistry"),
        "en", 1.0, (("ur", 0.4), ("gu", 0.3), ("hi", 0.2)), ("british-south-asian",), 4, 2,
    ),
    Community(
        "Europe/Berlin", "Berlin",
        _names("Lena, Jonas, Katharina, Felix, Anna, Lukas, Sophie, Maximilian, Hannah, Tobias"),
        _names("Fischer, Müller, Schmidt, Schneider, Weber, Becker, Wagner, Hoffmann"),
        "de", 0.95, (("fr", 0.1),), ("german",), 6, 4,
    ),
    Community(
        "Europe/Berlin", "Berlin",
        _names("Emre, Ayşe, Mehmet, Elif, Can, Zeynep"),
        _names("Yılmaz, Demir, Kaya, Şahin, Öztürk, Çelik"),
        "de", 0.95, (("tr", 0.9),), ("turkish-german",), 2, 1,
    ),
    Community(
        "Europe/Madrid", "Madrid",
        _names("Lucía, Pablo, Carmen, Javier, Marta, Alejandro, Laura, Sergio"),
        _names("García, Martínez, López, Sánchez, Fernández, Romero, Navarro, Torres"),
        "es", 0.5, (("ca", 0.2),), ("southern-european", "spanish"), 6, 2,
    ),
    Community(
        "Europe/Paris", "Paris",
        _names("Camille, Louis, Manon, Hugo, Chloé, Théo, Léa, Antoine"),
        _names("Dubois, Martin, Bernard, Lefèvre, Moreau, Laurent, Girard, Roux"),
        "fr", 0.4, (), ("french",), 4, 2,
    ),
    Community(
        "Europe/Warsaw", "Warsaw",
        _names("Piotr, Agnieszka, Tomasz, Katarzyna, Michał, Magdalena, Paweł, Zofia"),
        _names("Nowak, Wójcik, Kowalczyk, Woźniak, Mazur, Krawczyk, Zając, Król"),
        "pl", 0.95, (), ("central-european", "polish"), 4, 2,
    ),
    Community(
        "America/New_York", "New York",
        _names("Jasmine, Marcus, Aaliyah, Darnell, Keisha, Andre, Imani, Malik"),
        _names("Washington, Jackson, Robinson, Jefferson, Brooks, Coleman"),
        "en", 1.0, (), ("african-american",), 5, 2,
    ),
    Community(
        "America/New_York", "Boston",
        _names("Emily, David, Sarah, Michael, Rachel, Tyler, Megan, Ryan"),
        _names("Miller, Davis, Thompson, Sullivan, Goldberg, Cohen, O'Connor, Anderson"),
        "en", 1.0, (("es", 0.1),), ("north-american",), 6, 5,
    ),
    Community(
        "America/Los_Angeles", "San Francisco",
        _names("Kevin, Jennifer, Eric, Michelle, Jason, Grace"),
        _names("Chen, Wang, Liu, Huang, Zhang, Lin"),
        "en", 1.0, (("zh", 0.4),), ("east-asian", "chinese-american"), 4, 3,
    ),
    Community(
        "America/Los_Angeles", "Los Angeles",
        _names("Daniela, Carlos, Gabriela, Luis, Alejandra, Adrián"),
        _names("Gonzalez, Rodriguez, Flores, Morales, Castillo, Vargas"),
        "en", 1.0, (("es", 0.85),), ("latino",), 4, 1,
    ),
    Community(
        "America/Los_Angeles", "Seattle",
        _names("Ashley, Jordan, Kyle, Natalie, Ethan, Hannah"),
        _names("Peterson, Larson, Bennett, Carter, Reed, Hayes"),
        "en", 1.0, (), ("north-american",), 4, 3,
    ),
    Community(
        "America/Mexico_City", "Mexico City",
        _names("Sofía, Diego, Valeria, Santiago, Fernanda, Emiliano, Ximena, Rodrigo"),
        _names("Hernández, Ramírez, López, Cruz, Morales, Ortiz, Jiménez, Reyes"),
        "es", 0.35, (), ("latin-american", "mexican"), 6, 2,
    ),
    Community(
        "America/Sao_Paulo", "São Paulo",
        _names("João, Ana, Lucas, Mariana, Gabriel, Beatriz, Rafael, Camila, Thiago, Larissa"),
        _names("Silva, Souza, Oliveira, Costa, Pereira, Almeida, Ferreira, Rodrigues"),
        "pt", 0.4, (("es", 0.35),), ("latin-american", "brazilian"), 8, 2,
    ),
    Community(
        "America/Bogota", "Bogotá",
        _names("Andrés, Valentina, Camilo, Daniela, Julián, Natalia"),
        _names("Gómez, Restrepo, Castaño, Ospina, Vargas, Muñoz"),
        "es", 0.4, (), ("latin-american", "colombian"), 3, 1,
    ),
    Community(
        "America/Argentina/Buenos_Aires", "Buenos Aires",
        _names("Martín, Florencia, Facundo, Agustina, Tomás, Lucía"),
        _names("González, Fernández, Pereyra, Romero, Sosa, Álvarez"),
        "es", 0.55, (("it", 0.15),), ("latin-american", "argentine"), 3, 1,
    ),
)

ANCHOR_LANGUAGES = ("ja", "es", "pt", "fr")

# Weekly availability, in local time.  kind: (days, start minutes, durations in minutes).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
DAYS = (*WEEKDAYS, "sat", "sun")
WINDOW_KINDS: dict[str, tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]] = {
    "early": (WEEKDAYS, (420, 450, 480), (60, 75, 90)),
    "work": (WEEKDAYS, (540, 570, 600, 660, 840, 900, 960), (60, 90, 120)),
    "lunch": (WEEKDAYS, (720, 735, 750, 780), (45, 60, 75)),
    "evening": (WEEKDAYS, (1050, 1080, 1110, 1140, 1170, 1200), (60, 75, 90, 120)),
    "weekend": (("sat", "sun"), (540, 600, 660, 840, 960), (60, 90, 120, 180)),
}
# Relative weights of the kinds above, by the person's situation.
WINDOW_STYLES: dict[str, tuple[int, ...]] = {
    "mentee": (1, 3, 3, 5, 3),
    "mentor": (1, 5, 3, 3, 1),
    "caregiver": (2, 5, 4, 0, 1),  # no evenings
}

WELLBEING_TAGS: dict[str, tuple[tuple[str, int], ...]] = {
    "mentee": (
        ("flexible-scheduling", 5), ("caregiver", 3), ("neurodivergent-friendly", 3),
        ("low-intensity", 2), ("async-friendly", 2),
    ),
    "mentor": (
        ("low-intensity", 4), ("flexible-scheduling", 4), ("caregiver", 2),
        ("neurodivergent-friendly", 1), ("async-friendly", 1),
    ),
}

MENTEE_BIOS = (
    "{Title} in {unit}, based in {city}. I'd like help with {needs}.",
    "I joined the {unit} team {tenure} and work from {city}. "
    "Looking for a mentor to talk through {needs}.",
    "{Title} working on {focus} from {city}. Hoping to build confidence in {needs}.",
    "Based in {city}, I'm {a_title} on the {unit} team. I want to get better at {needs}.",
)
MENTOR_BIOS = (
    "{Title} in {unit} with {years} years in the industry, based in {city}. "
    "Happy to help with {strengths}.",
    "I've spent {years} years building software, most recently on {focus}. "
    "I enjoy talking through {strengths}.",
    "{Title} in {city}. Someone once mentored me through a rough patch; "
    "ask me about {strengths}.",
    "{Title} on the {unit} team. Glad to share what I've learned about {strengths}.",
)
BOTH_BIOS = (
    "{Title} in {unit}, based in {city}. I can help with {strengths}, "
    "and I'm looking for guidance on {needs} myself.",
    "I mentor on {strengths} and would love a mentor for {needs}. {Title}, {unit}, {city}.",
)
MANAGER_BIOS = (
    "Engineering Manager in {unit}, based in {city}, with {years} years in the industry. "
    "Happy to help with {strengths}.",
    "I lead a {unit} team from {city}. Outside my own reports, I like mentoring on "
    "{strengths}.",
)
TENURES = ("last year", "two years ago", "a few months ago", "in 2023", "after a career change")
YEARS_BY_LEVEL = {3: (6, 9), 4: (9, 14), 5: (14, 22)}
# Weights of strength levels 1, 2, 3 by experience level (scarce soft skills use their own).
STRENGTH_LEVEL_WEIGHTS = {3: (3, 5, 2), 4: (2, 5, 4), 5: (1, 4, 6)}


# --- helpers -------------------------------------------------------------------------------

_TRANSLIT = str.maketrans({"ı": "i", "ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "æ": "ae"})


def ascii_slug(text: str) -> str:
    """Lowercase ASCII letters and digits only, for the local part of an email address."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    text = text.encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in text.lower() if ch.isalnum())


def draw_name(rng: random.Random, com: Community, taken: set[str]) -> tuple[str, str]:
    """A name from the community; redraw once to keep namesakes rare (but not absent)."""
    for _ in range(2):
        first, last = rng.choice(com.first_names), rng.choice(com.last_names)
        if email_base(first, last) + "@" + DOMAIN not in taken:
            break
    return first, last


def email_base(first: str, last: str) -> str:
    return f"{ascii_slug(first)}.{ascii_slug(last)}"


def unique_email(first: str, last: str, taken: set[str]) -> str:
    """first.last@example.org, with a digit appended for namesakes."""
    base = email_base(first, last)
    email, n = f"{base}@{DOMAIN}", 1
    while email in taken:
        n += 1
        email = f"{base}{n}@{DOMAIN}"
    taken.add(email)
    return email


def pick(rng: random.Random, options: dict[Any, float] | tuple[tuple[Any, float], ...]) -> Any:
    pairs = list(options.items()) if isinstance(options, dict) else list(options)
    return rng.choices([k for k, _ in pairs], weights=[w for _, w in pairs])[0]


def weighted_sample(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    """k distinct keys, each draw proportional to the remaining weights."""
    pool = dict(weights)
    out: list[str] = []
    while pool and len(out) < k:
        key = pick(rng, pool)
        out.append(key)
        del pool[key]
    return out


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def label(tag: str) -> str:
    return TOPIC_LABELS.get(tag, tag.replace("-", " "))


def join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def with_article(title: str) -> str:
    return ("an " if title[0].lower() in "aeiou" else "a ") + title


# --- people --------------------------------------------------------------------------------


def make_languages(rng: random.Random, com: Community, role: str) -> list[str]:
    langs = [com.primary]
    if com.primary != "en":
        # Mentors are a little more likely to speak English than the mentees around them.
        en_prob = min(1.0, com.en_prob + (0.15 if role != "mentee" else 0.0))
        if rng.random() < en_prob:
            langs.append("en")
    for code, prob in com.extras:
        if rng.random() < prob and code not in langs:
            langs.append(code)
    return langs


def make_availability(rng: random.Random, style: str) -> list[dict[str, str]]:
    kinds = list(WINDOW_KINDS)
    weights = WINDOW_STYLES[style]
    # Mentors tend to offer a few more slots of time than mentees.
    counts = (0, 2, 4, 4, 3) if style == "mentor" else (1, 3, 4, 3, 2)
    target = rng.choices((1, 2, 3, 4, 5), weights=counts)[0]
    windows: list[tuple[int, int, int]] = []  # (day index, start, end)
    attempts = 0
    # At least `target` windows and at least an hour a week in total; never more than five.
    while attempts < 200 and (
        len(windows) < target or (sum(e - s for _, s, e in windows) < 60 and len(windows) < 5)
    ):
        attempts += 1
        kind = rng.choices(kinds, weights=weights)[0]
        days, starts, durations = WINDOW_KINDS[kind]
        day = DAYS.index(rng.choice(days))
        start = rng.choice(starts)
        end = start + rng.choice(durations)
        # Keep at least 15 minutes between two windows of the same day.
        if any(d == day and start < e + 15 and s < end + 15 for d, s, e in windows):
            continue
        windows.append((day, start, end))
    windows.sort()
    return [{"day": DAYS[d], "start": hhmm(s), "end": hhmm(e)} for d, s, e in windows]


def make_strengths(
    rng: random.Random, unit: OrgUnit, level: int, count: int, novice: bool
) -> list[dict[str, Any]]:
    weights = {
        tag: supply * (3.0 if tag in unit.topics else 1.0)
        for tag, (_, supply, _) in TOPICS.items()
    }
    out = []
    for tag in weighted_sample(rng, weights, count):
        if novice:
            lvl = rng.choices((1, 2), weights=(6, 4))[0]
        elif TOPICS[tag][2]:
            lvl = rng.choices((1, 2, 3), weights=(5, 4, 1))[0]
        else:
            lvl = rng.choices((1, 2, 3), weights=STRENGTH_LEVEL_WEIGHTS[level])[0]
        out.append({"tag": tag, "level": lvl})
    out.sort(key=lambda s: (-s["level"], s["tag"]))
    return out


def make_needs(
    rng: random.Random, unit: OrgUnit, count: int, exclude: list[str]
) -> list[dict[str, Any]]:
    weights = {
        tag: demand * (1.5 if tag in unit.topics else 1.0)
        for tag, (demand, _, _) in TOPICS.items()
        if tag not in exclude
    }
    out = []
    for i, tag in enumerate(weighted_sample(rng, weights, count)):
        prio = rng.choices((1, 2, 3), weights=(1, 3, 6) if i == 0 else (3, 4, 2))[0]
        out.append({"tag": tag, "priority": prio})
    out.sort(key=lambda n: (-n["priority"], n["tag"]))
    return out


def make_person(
    rng: random.Random, role: str, taken: set[str], com: Community | None = None
) -> dict[str, Any]:
    if com is None:
        weight_attr = "mentee_weight" if role == "mentee" else "mentor_weight"
        com = rng.choices(COMMUNITIES, weights=[getattr(c, weight_attr) for c in COMMUNITIES])[0]
    first, last = draw_name(rng, com, taken)
    unit = rng.choices(ORG_UNITS, weights=[u.weight for u in ORG_UNITS])[0]
    level = {
        "mentee": lambda: rng.choices((1, 2, 3), weights=(30, 45, 25))[0],
        "mentor": lambda: rng.choices((3, 4, 5), weights=(35, 40, 25))[0],
        "both": lambda: rng.choices((3, 4), weights=(60, 40))[0],
    }[role]()

    if role == "mentor":
        strengths = make_strengths(rng, unit, level, rng.randint(2, 6), novice=False)
        needs: list[dict[str, Any]] = []
    elif role == "both":
        strengths = make_strengths(rng, unit, level, rng.randint(2, 5), novice=False)
        needs = make_needs(rng, unit, rng.randint(1, 3), [s["tag"] for s in strengths])
    else:
        n_strengths = rng.choices((0, 1, 2), weights=(65, 20, 15))[0]
        strengths = make_strengths(rng, unit, level, n_strengths, novice=True)
        n_needs = rng.choices((1, 2, 3, 4), weights=(20, 40, 30, 10))[0]
        needs = make_needs(rng, unit, n_needs, [s["tag"] for s in strengths])

    helper = role != "mentee"
    wellbeing: list[str] | None = None
    if rng.random() < (0.15 if role == "mentor" else 0.2):
        tags = WELLBEING_TAGS["mentor" if helper else "mentee"]
        n = rng.choices((1, 2), weights=(3, 1))[0]
        wellbeing = sorted(weighted_sample(rng, dict(tags), n))

    style = "caregiver" if wellbeing and "caregiver" in wellbeing else (
        "mentor" if helper else "mentee"
    )
    availability = make_availability(rng, style)
    languages = make_languages(rng, com, role)

    culture: list[str] | None = None
    preference = "open"
    if rng.random() < 0.6:
        culture = list(com.culture[:1] if rng.random() < 0.2 else com.culture)
        preference = pick(rng, {"open": 70, "shared": 20, "different": 10})

    capacity: int | None = None
    if role == "mentor":
        capacity = rng.choices((1, 2, 3, 4, 5), weights=(22, 40, 28, 7, 3))[0]
    elif role == "both":
        capacity = rng.choices((1, 2), weights=(1, 1))[0]
    if capacity is not None and wellbeing and "low-intensity" in wellbeing:
        capacity = 1  # protects a mentor who asked for a light load

    return {
        "email": unique_email(first, last, taken),
        "display_name": f"{first} {last}",
        "role": role,
        "_community": com,
        "_unit": unit,
        "_is_manager": False,
        "profile": {
            "bio": "",
            "needs": needs,
            "strengths": strengths,
            "languages": languages,
            "timezone": com.timezone,
            "availability": availability,
            "experience_level": level,
            "org_unit": unit.name,
            "manager_email": None,
            "preferred_partners": [],
            "cultural_background": culture,
            "cultural_preference": preference,
            "wellbeing_needs": wellbeing,
            "capacity": capacity,
        },
    }


def assign_managers(rng: random.Random, people: list[dict[str, Any]], taken: set[str]) -> None:
    """Line managers outside the file, plus a few mentors who manage some mentees."""
    external: dict[str, dict[str, Any]] = {}
    for unit in ORG_UNITS:
        emails = []
        for _ in range(4):
            com = rng.choices(COMMUNITIES, weights=[c.mentor_weight for c in COMMUNITIES])[0]
            emails.append(unique_email(*draw_name(rng, com, taken), taken))
        external[unit.name] = {"director": emails[0], "leads": emails[1:]}

    for person in people:
        prof = person["profile"]
        if rng.random() < 0.07:
            continue  # manager unknown
        mgr = external[prof["org_unit"]]
        if person["role"] == "mentor" and rng.random() < 0.5:
            prof["manager_email"] = mgr["director"]
        else:
            prof["manager_email"] = rng.choice(mgr["leads"])

    # Some mentors also manage people in the program: the reporting-line rule must bite.
    mentors = [p for p in people if p["role"] == "mentor" and p["profile"]["experience_level"] >= 4]
    seen_units: set[str] = set()
    managers = []
    for person in rng.sample(mentors, len(mentors)):
        unit_name = person["profile"]["org_unit"]
        if unit_name not in seen_units:
            seen_units.add(unit_name)
            managers.append(person)
        if len(managers) == 5:
            break
    for mgr in managers:
        mgr["_is_manager"] = True
        prof = mgr["profile"]
        prof["manager_email"] = external[prof["org_unit"]]["director"]
        if not any(s["tag"] == "people-management" for s in prof["strengths"]):
            del prof["strengths"][5:]  # at most six strengths
            prof["strengths"].append({"tag": "people-management", "level": 2})
            prof["strengths"].sort(key=lambda s: (-s["level"], s["tag"]))
        reports = [
            p for p in people
            if p["role"] == "mentee" and p["profile"]["org_unit"] == prof["org_unit"]
        ]
        for report in rng.sample(reports, min(len(reports), rng.randint(2, 4))):
            report["profile"]["manager_email"] = mgr["email"]


#: A northern winter and a northern summer week: a named partner must share the program's
#: minimum weekly time in both, whatever daylight saving does, so the preference applies.
_REFERENCE_MONDAYS = (dt.date(2026, 1, 12), dt.date(2026, 7, 13))


def utc_minutes(profile: dict[str, Any], monday: dt.date) -> set[int]:
    """The minutes of the week of `monday` (0 = Monday 00:00 UTC) a profile is available."""
    zone = ZoneInfo(profile["timezone"])
    out: set[int] = set()
    for window in profile["availability"]:
        day = monday + dt.timedelta(days=DAYS.index(window["day"]))
        for key in ("start", "end"):
            hours, minutes = map(int, window[key].split(":"))
            window[f"_{key}"] = hours * 60 + minutes
        local = dt.datetime.combine(day, dt.time(), tzinfo=zone)
        offset = int(local.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
        base = DAYS.index(window["day"]) * 1440 - offset
        out.update((base + m) % (7 * 1440) for m in range(window.pop("_start"), window.pop("_end")))
    return out


def could_pair(mentee: dict[str, Any], mentor: dict[str, Any]) -> bool:
    """The demo program's hard rules that a preference cannot override."""
    a, b = mentee["profile"], mentor["profile"]
    gap = b["experience_level"] - a["experience_level"]
    return (
        bool(set(a["languages"]) & set(b["languages"]))
        and SETTINGS["min_experience_gap"] <= gap <= SETTINGS["max_experience_gap"]
        and a["manager_email"] != mentor["email"]
        and b["manager_email"] != mentee["email"]
        and all(
            len(utc_minutes(a, monday) & utc_minutes(b, monday)) >= SETTINGS["min_overlap_minutes"]
            for monday in _REFERENCE_MONDAYS
        )
    )


def assign_preferences(rng: random.Random, people: list[dict[str, Any]]) -> None:
    """About 10% of mentees name one or two mentors they would like to work with.

    Only mentors they could actually be paired with (a shared language and enough shared
    time, the experience range, not their own manager), so that the preference applies.
    """
    mentees = [p for p in people if p["role"] == "mentee"]
    helpers = [p for p in people if p["role"] != "mentee"]
    for mentee in rng.sample(mentees, round(0.1 * len(mentees))):
        prof = mentee["profile"]
        candidates = {
            h["email"]: 3.0 if h["profile"]["org_unit"] == prof["org_unit"] else 1.0
            for h in helpers
            if could_pair(mentee, h)
        }
        prof["preferred_partners"] = weighted_sample(
            rng, candidates, rng.choices((1, 2), weights=(7, 3))[0]
        )


def balance_capacity(rng: random.Random, people: list[dict[str, Any]]) -> None:
    lo, hi = CAPACITY_RANGE
    helpers = [p["profile"] for p in people if p["profile"]["capacity"] is not None]
    while sum(h["capacity"] for h in helpers) < lo:
        rng.choice([h for h in helpers if 1 < h["capacity"] < 3])["capacity"] += 1
    while sum(h["capacity"] for h in helpers) > hi:
        rng.choice([h for h in helpers if h["capacity"] > 2])["capacity"] -= 1


def write_bio(rng: random.Random, person: dict[str, Any]) -> str:
    prof, unit, com = person["profile"], person["_unit"], person["_community"]
    level = prof["experience_level"]
    title = " ".join(filter(None, (LEVEL_PREFIX[level], unit.role_noun)))
    lo, hi = YEARS_BY_LEVEL.get(level, (1, 5))
    fields = {
        "Title": title,
        "a_title": with_article(title),
        "unit": unit.name,
        "focus": unit.focus,
        "city": com.city,
        "tenure": rng.choice(TENURES),
        "years": rng.randint(lo, hi),
        "needs": join_words([label(n["tag"]) for n in prof["needs"][:3]]),
        "strengths": join_words([label(s["tag"]) for s in prof["strengths"][:3]]),
    }
    if person["_is_manager"]:
        templates = MANAGER_BIOS
    else:
        templates = {"mentee": MENTEE_BIOS, "mentor": MENTOR_BIOS, "both": BOTH_BIOS}[
            person["role"]
        ]
    return rng.choice(templates).format(**fields)


def finish(person: dict[str, Any]) -> dict[str, Any]:
    """Drop private helpers and put the profile keys in their documented order."""
    prof = dict(person["profile"])
    if prof["cultural_background"] or prof["wellbeing_needs"]:
        prof["consent"] = {"special_category": True, "text_version": CONSENT_TEXT_VERSION}
    capacity = prof.pop("capacity")
    if capacity is not None:
        prof["capacity"] = capacity
    return {
        "email": person["email"],
        "display_name": person["display_name"],
        "role": person["role"],
        "profile": prof,
    }


def build() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rng = random.Random(SEED)
    taken: set[str] = set()
    # One mentor from each community whose main language is not English comes first, so
    # that mentees without English have at least one candidate; the rest are drawn freely.
    anchors = list({c.primary: c for c in COMMUNITIES if c.primary in ANCHOR_LANGUAGES}.values())
    people = [make_person(rng, "mentor", taken, com) for com in anchors]
    people += [make_person(rng, "mentor", taken) for _ in range(N_MENTORS - len(anchors))]
    people += [make_person(rng, "both", taken) for _ in range(N_BOTH)]
    people += [make_person(rng, "mentee", taken) for _ in range(N_MENTEES)]
    assign_managers(rng, people, taken)
    assign_preferences(rng, people)
    balance_capacity(rng, people)
    for person in people:
        person["profile"]["bio"] = write_bio(rng, person)

    role_order = {"mentor": 0, "both": 1, "mentee": 2}
    people.sort(key=lambda p: (role_order[p["role"]], p["email"]))
    program = {**PROGRAM, "taxonomy": TAXONOMY, "settings": SETTINGS}
    return program, [finish(p) for p in people]


def render(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if files are out of date")
    args = parser.parse_args(argv)

    program, participants = build()
    outputs = {
        OUT_DIR / "program.json": render(program),
        OUT_DIR / "participants.json": render(participants),
    }
    stale = [path for path, data in outputs.items()
             if not path.exists() or path.read_bytes() != data]
    if args.check:
        for path in stale:
            print(f"out of date: {path.name}", file=sys.stderr)
        return 1 if stale else 0
    for path, data in outputs.items():
        path.write_bytes(data)
        print(f"wrote {path.name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
