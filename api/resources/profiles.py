"""Participant profiles: the owner's own, and the coordinators' view of the program."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from api import db
from api.auth import current_account, own_view_rows, policy
from api.schemas import (
    ConsentGrantSchema,
    ConsentSchema,
    CsvUploadSchema,
    ImportSummarySchema,
    ParticipantAdminUpdateSchema,
    ParticipantPageSchema,
    ParticipantQuerySchema,
    ParticipantSchema,
    ProfileSchema,
)
from api.services import csv_import, profiles, relationships

blp = Blueprint(
    "profiles", __name__, url_prefix="/api/v1/programs", description="Participant profiles"
)


@blp.route("/<int:program_id>/profile")
class OwnProfile(MethodView):
    @policy("owner")
    @blp.response(200, ParticipantSchema)
    def get(self, program_id: int) -> Any:
        """Read your own profile in the program."""
        return jsonify(profiles.own_view_from_rows(own_view_rows()))

    @policy("owner")
    @blp.arguments(ProfileSchema)
    @blp.response(201, ParticipantSchema)
    @blp.alt_response(409, description="The profile exists already")
    def post(self, data: dict[str, Any], program_id: int) -> Any:
        """Create your profile in the program."""
        return profiles.create_own(db.session(), current_account(), program_id, data)

    @policy("owner")
    @blp.arguments(ProfileSchema)
    @blp.response(200, ParticipantSchema)
    def put(self, data: dict[str, Any], program_id: int) -> Any:
        """Replace your whole profile in the program."""
        return profiles.replace_own(db.session(), current_account(), program_id, data)

    @policy("owner")
    @blp.arguments(ProfileSchema(partial=True))
    @blp.response(200, ParticipantSchema)
    def patch(self, data: dict[str, Any], program_id: int) -> Any:
        """Change some fields of your profile."""
        return profiles.patch_own(db.session(), current_account(), program_id, data)


@blp.route("/<int:program_id>/profile/consent")
class OwnConsent(MethodView):
    @policy("owner")
    @blp.arguments(ConsentGrantSchema)
    @blp.response(201, ConsentSchema)
    def post(self, data: dict[str, Any], program_id: int) -> Any:
        """Consent to storing your cultural background and wellbeing needs."""
        return profiles.grant_consent(
            db.session(), current_account(), program_id, data["text_version"]
        )

    @policy("owner")
    @blp.response(204)
    def delete(self, program_id: int) -> None:
        """Withdraw consent; your cultural background and wellbeing needs are erased."""
        profiles.withdraw_consent(db.session(), current_account(), program_id)


@blp.route("/<int:program_id>/profile/pause")
class OwnPause(MethodView):
    @policy("owner")
    @blp.response(200, ParticipantSchema)
    def post(self, program_id: int) -> Any:
        """Pause: get no new partners until you resume (current ones continue)."""
        participant = relationships.set_paused(db.session(), current_account(), program_id, True)
        return profiles.participant_view(participant)


@blp.route("/<int:program_id>/profile/resume")
class OwnResume(MethodView):
    @policy("owner")
    @blp.response(200, ParticipantSchema)
    def post(self, program_id: int) -> Any:
        """Resume after a pause: you can be matched again."""
        participant = relationships.set_paused(db.session(), current_account(), program_id, False)
        return profiles.participant_view(participant)


@blp.route("/<int:program_id>/participants/import")
class ParticipantImport(MethodView):
    @policy("coordinator")
    @blp.arguments(CsvUploadSchema, location="files")
    @blp.response(201, ImportSummarySchema)
    @blp.alt_response(422, description="Invalid rows, listed in `rows`; nothing imported")
    def post(self, files: dict[str, Any], program_id: int) -> Any:
        """Import participants from a CSV file (coordinators), all or nothing."""
        return csv_import.import_csv(
            db.session(), current_account(), program_id, files["file"].read()
        )


@blp.route("/<int:program_id>/participants")
class Participants(MethodView):
    @policy("coordinator")
    @blp.arguments(ParticipantQuerySchema, location="query")
    @blp.response(200, ParticipantPageSchema)
    def get(self, query: dict[str, Any], program_id: int) -> Any:
        """List the program's participants (coordinators), filtered and paginated."""
        return profiles.list_for_coordinator(db.session(), current_account(), program_id, query)


@blp.route("/<int:program_id>/participants/<int:participant_id>")
class ParticipantItem(MethodView):
    @policy("coordinator")
    @blp.response(200, ParticipantSchema)
    def get(self, program_id: int, participant_id: int) -> Any:
        """Read one participant's profile (coordinators)."""
        return profiles.get_for_coordinator(
            db.session(), current_account(), program_id, participant_id
        )

    @policy("coordinator")
    @blp.arguments(ParticipantAdminUpdateSchema)
    @blp.response(200, ParticipantSchema)
    def patch(self, data: dict[str, Any], program_id: int, participant_id: int) -> Any:
        """Change a participant's role or status (coordinators)."""
        return profiles.update_by_coordinator(
            db.session(), current_account(), program_id, participant_id, data
        )
