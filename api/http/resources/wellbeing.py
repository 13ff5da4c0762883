"""Relationship health: fit checks, no-fault exits, concerns, closing surveys, load."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from api.http.bodies import Blueprint
from api.http.database import session
from api.http.openapi import problem
from api.http.policy import current_account, policy
from api.http.schemas.matches import MatchSchema
from api.http.schemas.wellbeing import (
    ConcernCreateSchema,
    ConcernQuerySchema,
    ConcernSchema,
    ConcernUpdateSchema,
    FitCheckAnswerSchema,
    MyConcernSchema,
    SurveyCreateSchema,
    SurveyReportSchema,
    SurveySchema,
)
from api.services import concerns, fit_checks, surveys

blp = Blueprint("wellbeing", __name__, url_prefix="/api/v1", description="Relationship health")

CSV = {"type": "string", "description": "CSV text with a header row"}


@blp.route("/matches/<int:match_id>/fit-check")
class FitCheck(MethodView):
    @policy("partner")
    @blp.arguments(FitCheckAnswerSchema())
    @blp.response(200, MatchSchema)
    @blp.alt_response(409, problem("Not active, or the fit check was not asked yet"))
    def post(self, data: dict[str, Any], match_id: int) -> Any:
        """Answer the first-meeting fit check (not_a_fit may take the no-fault exit)."""
        return fit_checks.answer(
            session(), current_account(), match_id, data["answer"], data["take_exit"]
        )


@blp.route("/matches/<int:match_id>/no-fault-exit")
class NoFaultExit(MethodView):
    @policy("partner")
    @blp.response(200, MatchSchema)
    @blp.alt_response(409, problem("Not active, or nobody answered the fit check not_a_fit"))
    def post(self, match_id: int) -> Any:
        """Leave a relationship without blame after a not_a_fit answer."""
        return fit_checks.no_fault_exit(session(), current_account(), match_id)


@blp.route("/matches/<int:match_id>/concerns")
class MatchConcerns(MethodView):
    @policy("partner")
    @blp.arguments(ConcernCreateSchema())
    @blp.response(201, MyConcernSchema)
    @blp.alt_response(409, problem("Not a live relationship (current_status says what it is)"))
    def post(self, data: dict[str, Any], match_id: int) -> Any:
        """Raise a concern with the coordinators (your partner never sees it)."""
        return concerns.raise_concern(session(), current_account(), match_id, data)


@blp.route("/me/concerns")
class MyConcerns(MethodView):
    @policy("authenticated")
    @blp.response(200, MyConcernSchema(many=True))
    def get(self) -> Any:
        """The concerns you raised, with their status and outcome."""
        return concerns.mine(session(), current_account())


@blp.route("/programs/<int:program_id>/concerns")
class ProgramConcerns(MethodView):
    @policy("coordinator")
    @blp.arguments(ConcernQuerySchema(), location="query")
    @blp.response(200, ConcernSchema(many=True))
    def get(self, query: dict[str, Any], program_id: int) -> Any:
        """The program's concerns, open ones first (coordinators)."""
        return concerns.of_program(session(), current_account(), program_id, query)


@blp.route("/programs/<int:program_id>/concerns/<int:concern_id>")
class ProgramConcern(MethodView):
    @policy("coordinator")
    @blp.arguments(ConcernUpdateSchema())
    @blp.response(200, ConcernSchema)
    @blp.alt_response(404, problem("No such concern in this program"))
    @blp.alt_response(409, problem("The concern is resolved already"))
    def patch(self, data: dict[str, Any], program_id: int, concern_id: int) -> Any:
        """Annotate a concern, or resolve it with an outcome (coordinators)."""
        return concerns.update_concern(session(), current_account(), program_id, concern_id, data)


@blp.route("/matches/<int:match_id>/survey")
class Survey(MethodView):
    @policy("partner")
    @blp.arguments(SurveyCreateSchema())
    @blp.response(201, SurveySchema)
    @blp.alt_response(409, problem("Not ended, or you answered already"))
    def post(self, data: dict[str, Any], match_id: int) -> Any:
        """Answer the closing survey of an ended relationship."""
        return surveys.answer(session(), current_account(), match_id, data)


@blp.route("/programs/<int:program_id>/surveys/report")
class SurveyReport(MethodView):
    @policy("coordinator")
    @blp.response(200, SurveyReportSchema)
    def get(self, program_id: int) -> Any:
        """Closing surveys: response rate, means and distributions (coordinators)."""
        return surveys.report(session(), current_account(), program_id)


@blp.route("/programs/<int:program_id>/surveys.csv")
class SurveysCsv(MethodView):
    @policy("coordinator")
    @blp.response(200, CSV, content_type="text/csv")
    def get(self, program_id: int) -> Response:
        """Export the closing surveys' answers as CSV (coordinators)."""
        body = surveys.surveys_csv(session(), current_account(), program_id)
        return Response(
            body,
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="program-{program_id}-surveys.csv"'
            },
        )
