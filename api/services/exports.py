"""CSV exports of a round for coordinators."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from api.adapters.db import utcnow
from api.adapters.models import Account, Match, Participant, RoundPair
from api.domain.vocabulary import CRITERIA
from api.services import access, relationship_health
from api.services.round_review import require_results

#: What `excel=true` puts first: Excel reads a CSV as UTF-8 only when it starts with it.
BOM = "\ufeff"


def round_pairs_csv(
    session: Session, account: Account, program_id: int, round_id: int, *, excel: bool = False
) -> str:
    """The round's pairs for coordinators, with both partners' contact emails.
    `excel`: start with a UTF-8 byte order mark (names with accents show right in Excel)."""
    round_ = access.round_of_program(session, account, program_id, round_id)
    require_results(round_)
    mentee, mentor = aliased(Participant), aliased(Participant)
    mentee_acc, mentor_acc = aliased(Account), aliased(Account)
    rows = session.execute(
        select(
            RoundPair,
            mentee_acc.display_name,
            mentee_acc.email,
            mentor_acc.display_name,
            mentor_acc.email,
            Match.status,
        )
        .join(mentee, mentee.id == RoundPair.mentee_id)
        .join(mentee_acc, mentee_acc.id == mentee.account_id)
        .join(mentor, mentor.id == RoundPair.mentor_id)
        .join(mentor_acc, mentor_acc.id == mentor.account_id)
        .outerjoin(
            Match, (Match.round_id == RoundPair.round_id) & (Match.mentee_id == RoundPair.mentee_id)
        )
        .where(RoundPair.round_id == round_.id)
        .order_by(RoundPair.score.desc(), RoundPair.id)
    ).all()
    # The health of each pair's match while it is live (empty once it is not).
    matches = list(session.scalars(select(Match).where(Match.round_id == round_.id)))
    health = relationship_health.health_of(session, matches, utcnow())
    health_by_mentee = {m.mentee_id: health[m.id] for m in matches}
    out = io.StringIO()
    if excel:
        out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(
        ["round_id", "mentee_id", "mentee_name", "mentee_email"]
        + ["mentor_id", "mentor_name", "mentor_email", "score", "pinned"]
        + [f"criterion_{c}" for c in CRITERIA]
        + ["match_status", "health"]
    )
    for pair, mentee_name, mentee_email, mentor_name, mentor_email, status in rows:
        writer.writerow(
            [round_.id, pair.mentee_id, cell(mentee_name), cell(mentee_email)]
            + [pair.mentor_id, cell(mentor_name), cell(mentor_email)]
            + [f"{pair.score:.6f}", "yes" if pair.pinned else "no"]
            + [f"{pair.breakdown.get(c, 0.0):.6f}" for c in CRITERIA]
            + [status or round_.status, health_by_mentee.get(pair.mentee_id) or ""]
        )
    return out.getvalue()


def cell(value: str) -> str:
    """A text cell a spreadsheet shows as text (cells starting with these run as
    formulas: CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
