"""Participant profiles: the owner's own, and the coordinators' view of the program."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.views import MethodView

from api.http import csv_rows, limits
from api.http.bodies import Blueprint
from api.http.database import session
from api.http.openapi import problem
from api.http.policy import current_account, own_view_rows, policy
from api.http.schemas.imports import CsvUploadSchema, ImportQuerySchema, ImportSummarySchema
from api.http.schemas.profiles import (
    ConsentGrantSchema,
    ConsentSchema,
    ParticipantAdminUpdateSchema,
    ParticipantPageSchema,
    ParticipantQuerySchema,
    ParticipantSchema,
    ProfilePatchSchema,
    ProfileSchema,
)
from api.services import consent, csv_import, participants, profile_views, profile_writes

blp = Blueprint(
    "profiles", __name__, url_prefix="/api/v1/programs", description="Participant profiles"
)


@blp.route("/<int:program_id>/profile")
class OwnProfile(MethodView):
    @policy("owner")
    @blp.response(200, ParticipantSchema)
    def get(self, program_id: int) -> Any:
        """Read your own profile in the program."""
        return jsonify(profile_views.own_view_from_rows(own_view_rows()))

    @policy("owner")
    @blp.arguments(ProfileSchema())
    @blp.response(201, ParticipantSchema)
    @blp.alt_response(409, problem("Your profile exists: replace it (PUT) or change it (PATCH)"))
    def post(self, data: dict[str, Any], program_id: int) -> Any:
        """Create your profile in the program."""
        return profile_writes.create_own(session(), current_account(), program_id, data)

    @policy("owner")
    @blp.arguments(ProfileSchema())
    @blp.response(200, ParticipantSchema)
    def put(self, data: dict[str, Any], program_id: int) -> Any:
        """Replace your whole profile in the program."""
        return profile_writes.replace_own(session(), current_account(), program_id, data)

    @policy("owner")
    @blp.arguments(ProfilePatchSchema())
    @blp.response(200, ParticipantSchema)
    @blp.alt_response(409, problem("You have no profile yet: create it first"))
    def patch(self, data: dict[str, Any], program_id: int) -> Any:
        """Change some fields of your profile."""
        return profile_writes.patch_own(session(), current_account(), program_id, data)


@blp.route("/<int:program_id>/profile/consent")
class OwnConsent(MethodView):
    @policy("owner")
    @blp.arguments(ConsentGrantSchema())
    @blp.response(201, ConsentSchema)
    def post(self, data: dict[str, Any], program_id: int) -> Any:
        """Consent to storing your cultural background and wellbeing needs."""
        return consent.grant_own(session(), current_account(), program_id, data["text_version"])

    @policy("owner")
    @blp.response(204)
    @blp.alt_response(404, problem("You have not joined, or have no consent to withdraw"))
    def delete(self, program_id: int) -> None:
        """Withdraw consent; your cultural background and wellbeing needs are erased."""
        consent.withdraw_own(session(), current_account(), program_id)


@blp.route("/<int:program_id>/profile/pause")
class OwnPause(MethodView):
    @policy("owner")
    @blp.response(200, ParticipantSchema)
    @blp.alt_response(409, problem("You have withdrawn from the program"))
    def post(self, program_id: int) -> Any:
        """Pause: get no new partners until you resume (current ones continue)."""
        return profile_writes.set_paused(session(), current_account(), program_id, True)


@blp.route("/<int:program_id>/profile/resume")
class OwnResume(MethodView):
    @policy("owner")
    @blp.response(200, ParticipantSchema)
    @blp.alt_response(409, problem("You have withdrawn from the program"))
    def post(self, program_id: int) -> Any:
        """Resume after a pause, or after saying you are drained: new proposals again."""
        return profile_writes.set_paused(session(), current_account(), program_id, False)


@blp.route("/<int:program_id>/participants/import")
class ParticipantImport(MethodView):
    @policy("coordinator")
    @limits.body_limit("IMPORT_MAX_BYTES")
    @blp.arguments(ImportQuerySchema(), location="query")
    @blp.arguments(CsvUploadSchema(), location="files")
    @blp.response(201, ImportSummarySchema)
    @blp.alt_response(200, schema=ImportSummarySchema, description="dry_run: nothing written")
    @blp.alt_response(413, problem("The file is larger than IMPORT_MAX_BYTES"))
    @blp.alt_response(422, "ImportInvalid")
    def post(self, query: dict[str, Any], files: dict[str, Any], program_id: int) -> Any:
        """Import participants from a CSV file (coordinators), all or nothing."""
        summary = csv_import.import_rows(
            session(),
            current_account(),
            program_id,
            csv_rows.read_upload(files["file"]),
            invite=query["invite"],
            dry_run=query["dry_run"],
        )
        return (summary, 200) if summary.dry_run else summary


@blp.route("/<int:program_id>/participants")
class Participants(MethodView):
    @policy("coordinator")
    @blp.arguments(ParticipantQuerySchema(), location="query")
    @blp.response(200, ParticipantPageSchema)
    def get(self, query: dict[str, Any], program_id: int) -> Any:
        """List the program's participants (coordinators), filtered and paginated."""
        return participants.list_for_coordinator(session(), current_account(), program_id, query)


@blp.route("/<int:program_id>/participants/<int:participant_id>")
class ParticipantItem(MethodView):
    @policy("coordinator")
    @blp.response(200, ParticipantSchema)
    def get(self, program_id: int, participant_id: int) -> Any:
        """Read one participant's profile (coordinators)."""
        return participants.get_for_coordinator(
            session(), current_account(), program_id, participant_id
        )

    @policy("coordinator")
    @blp.arguments(ParticipantAdminUpdateSchema())
    @blp.response(200, ParticipantSchema)
    def patch(self, data: dict[str, Any], program_id: int, participant_id: int) -> Any:
        """Change a participant's role or status (coordinators)."""
        return participants.update_by_coordinator(
            session(), current_account(), program_id, participant_id, data
        )
