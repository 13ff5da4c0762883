"""The generated programs that benches and fault tests use are valid as the API sees it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.adapters.models import Participant, Program
from api.domain import profiles
from api.domain.settings import ProgramSettings
from api.http.schemas.profiles import ProfileSchema
from api.services.profile_views import profile_dict
from api.synthetic import cohort, program


def test_a_generated_program_passes_the_apis_own_profile_validation(session):
    program_id = program.generate(session, 120, 30, seed=11)
    prog = session.get(Program, program_id)
    people = session.scalars(
        select(Participant)
        .where(Participant.program_id == program_id)
        .options(selectinload(Participant.account), selectinload(Participant.tags))
    ).all()
    assert len(people) >= 140  # a few people are both mentor and mentee
    assert {p.role for p in people} >= {"mentor", "mentee"}
    for p in people:
        body = {k: v for k, v in profile_dict(p).items() if v is not None}
        if p.cultural_background:
            body["consent"] = {"special_category": True, "text_version": "synthetic"}
        loaded = ProfileSchema().load(body)
        profiles.check(
            role=p.role,
            current={},
            sent=loaded,
            partial=False,
            own_email=p.account.email,
            taxonomy=prog.taxonomy,
            settings=ProgramSettings.from_stored(prog.settings),
            has_live_consent=False,
        )


def test_the_same_seed_gives_the_same_cohort():
    assert cohort.cohort(50, 12, seed=3) == cohort.cohort(50, 12, seed=3)
    assert cohort.cohort(50, 12, seed=3) != cohort.cohort(50, 12, seed=4)
