"""Program-scoped access: who may see or change what in a program.

A program the caller has no relation to answers 404, so its existence does not leak;
a member asking for coordinator powers gets 403.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, inspect, select
from sqlalchemy.orm import Session, joinedload

from api.adapters.models import (
    Account,
    Match,
    Participant,
    Program,
    ProgramCoordinator,
    Round,
    Token,
)
from api.domain.vocabulary import ProgramRole, Side
from api.errors import Forbidden, NotFound


def is_coordinator(session: Session, account: Account, program_id: int) -> bool:
    return account.is_admin or (
        session.get(ProgramCoordinator, (program_id, account.id)) is not None
    )


# What a profile view shows besides the participant row: the tags and the consent
# records. Loaded with the participant in one query: the tags and consents of one person
# are a handful of rows each, so their product stays small. (The program, which only
# profile writes need, is not joined: every joined row would repeat its columns.)
PROFILE_LOADERS = (
    joinedload(Participant.tags),
    joinedload(Participant.consents),
)
# The caller's participation in the program, joined to their token (the owner policy's
# statements: the ORM one in api.auth, the plain-rows one of the profile read).
CALLER_PARTICIPATION = and_(
    Participant.account_id == Token.account_id,
    Participant.program_id == bindparam("program_id"),
)
# Built once: constructing a statement costs more than running a cached one.
_OWN_PARTICIPANT = select(Participant).where(
    Participant.program_id == bindparam("program_id"),
    Participant.account_id == bindparam("account_id"),
)
_OWN_PROFILE = _OWN_PARTICIPANT.options(*PROFILE_LOADERS)


def _own_cache(session: Session) -> dict[tuple[int, int], Participant]:
    cache: dict[tuple[int, int], Participant] = session.info.setdefault("own_participant", {})
    return cache


def remember_own_participant(
    session: Session, account: Account, program_id: int, participant: Participant
) -> None:
    """Note the caller's participation, loaded by another query of this session."""
    _own_cache(session)[(account.id, program_id)] = participant


def own_participant(
    session: Session, account: Account, program_id: int, *, with_profile: bool = False
) -> Participant | None:
    """The caller's participation in the program, or None.

    `with_profile` loads what the profile views need (PROFILE_LOADERS) in the same query.
    """
    # The route policy and then the service both ask this within one request's session:
    # remember the answer there instead of querying twice (only while the row is
    # persistent in this session, so a rollback or a new join is never served stale).
    cache = _own_cache(session)
    known = cache.get((account.id, program_id))
    if known is not None and inspect(known).persistent and known in session:
        return known
    found = (
        session.scalars(
            _OWN_PROFILE if with_profile else _OWN_PARTICIPANT,
            {"program_id": program_id, "account_id": account.id},
        )
        .unique()
        .one_or_none()
    )
    if found is not None:
        cache[(account.id, program_id)] = found
    return found


def program_for_member(session: Session, account: Account, program_id: int) -> Program:
    """The program, if the caller coordinates it, takes part in it, or is an admin."""
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound(f"Program {program_id} does not exist.")
    if is_coordinator(session, account, program_id):
        return program
    if own_participant(session, account, program_id) is not None:
        return program
    raise NotFound(f"Program {program_id} does not exist.")


def program_for_coordinator(session: Session, account: Account, program_id: int) -> Program:
    program = program_for_member(session, account, program_id)
    if not is_coordinator(session, account, program_id):
        raise Forbidden("Only the program's coordinators may do this.")
    return program


def role_in(session: Session, account: Account, program: Program) -> ProgramRole:
    if account.is_admin:
        return ProgramRole.ADMIN
    if session.get(ProgramCoordinator, (program.id, account.id)) is not None:
        return ProgramRole.COORDINATOR
    participant = own_participant(session, account, program.id)
    return ProgramRole(participant.role) if participant else ProgramRole.NONE


def not_joined(program_id: int) -> NotFound:
    """The owner policy's answer to somebody who is not a participant of the program."""
    return NotFound(f"You have not joined program {program_id}; join it with its join code first.")


def own_profile_program(session: Session, account: Account, program_id: int) -> Participant:
    """The caller's participation in the program (404 when they have not joined)."""
    participant = own_participant(session, account, program_id, with_profile=True)
    if participant is None:
        raise not_joined(program_id)
    return participant


def match_side(session: Session, account: Account, match_id: int) -> tuple[Match, Side]:
    """The match and the caller's side of it; 404 for anybody else's match."""
    match = session.get(Match, match_id)
    if match is not None:
        mine = set(
            session.scalars(select(Participant.id).where(Participant.account_id == account.id))
        )
        if match.mentee_id in mine:
            return match, Side.MENTEE
        if match.mentor_id in mine:
            return match, Side.MENTOR
    raise NotFound(f"Match {match_id} does not exist.")


def round_of_program(session: Session, account: Account, program_id: int, round_id: int) -> Round:
    """A round of a program the caller coordinates (404 for another program's round)."""
    program = program_for_coordinator(session, account, program_id)
    round_ = session.get(Round, round_id)
    if round_ is None or round_.program_id != program.id:
        raise NotFound(f"Round {round_id} is not a round of this program.")
    return round_
