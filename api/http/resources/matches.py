"""Matches as participants see them, check-ins, and the coordinators' attention list."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.http.bodies import Blueprint
from api.http.database import session
from api.http.openapi import problem
from api.http.policy import current_account, policy
from api.http.schemas.matches import (
    AttentionQuerySchema,
    AttentionSchema,
    CheckInCreateSchema,
    CheckInSchema,
    CoordinatorCloseSchema,
    DeclineSchema,
    EndSchema,
    FunnelSchema,
    MatchSchema,
    ProgramMatchPageSchema,
    ProgramMatchQuerySchema,
    ProgramMatchSchema,
)
from api.services import attention, funnel, program_matches, relationships

blp = Blueprint("matches", __name__, url_prefix="/api/v1", description="Relationships")


@blp.route("/me/matches")
class MyMatches(MethodView):
    @policy("authenticated")
    @blp.response(200, MatchSchema(many=True))
    def get(self) -> Any:
        """Your matches, with your partner's shareable profile and why you were matched."""
        return relationships.my_matches(session(), current_account())


@blp.route("/matches/<int:match_id>/accept")
class Accept(MethodView):
    @policy("partner")
    @blp.response(200, MatchSchema)
    @blp.alt_response(409, problem("Not a proposal any more (current_status says what it is)"))
    def post(self, match_id: int) -> Any:
        """Accept a proposed match; it becomes active when both sides have accepted."""
        return relationships.accept(session(), current_account(), match_id)


@blp.route("/matches/<int:match_id>/decline")
class Decline(MethodView):
    @policy("partner")
    @blp.arguments(DeclineSchema())
    @blp.response(200, MatchSchema)
    @blp.alt_response(409, problem("Not a proposal any more (current_status says what it is)"))
    def post(self, data: dict[str, Any], match_id: int) -> Any:
        """Decline a proposed match, optionally saying why."""
        return relationships.decline(session(), current_account(), match_id, data.get("reason"))


@blp.route("/matches/<int:match_id>/end")
class End(MethodView):
    @policy("partner")
    @blp.arguments(EndSchema())
    @blp.response(200, MatchSchema)
    @blp.alt_response(409, problem("Not an active relationship (current_status says what it is)"))
    def post(self, data: dict[str, Any], match_id: int) -> Any:
        """End an active relationship, with a reason."""
        return relationships.end(session(), current_account(), match_id, data["reason"])


@blp.route("/matches/<int:match_id>/check-ins")
class CheckIns(MethodView):
    @policy("partner")
    @blp.arguments(CheckInCreateSchema())
    @blp.response(201, CheckInSchema)
    @blp.alt_response(409, problem("Not an active relationship (current_status says what it is)"))
    def post(self, data: dict[str, Any], match_id: int) -> Any:
        """Check in on an active relationship: rating, wellbeing signal, private note."""
        return relationships.check_in(session(), current_account(), match_id, data)


@blp.route("/programs/<int:program_id>/attention")
class Attention(MethodView):
    @policy("coordinator")
    @blp.arguments(AttentionQuerySchema(), location="query")
    @blp.response(200, AttentionSchema(many=True))
    def get(self, query: dict[str, Any], program_id: int) -> Any:
        """Relationships that need a coordinator's attention (coordinators)."""
        return attention.needs_attention(
            session(), current_account(), program_id, query["weeks"], query["low_rating"]
        )


@blp.route("/programs/<int:program_id>/matches")
class ProgramMatches(MethodView):
    @policy("coordinator")
    @blp.arguments(ProgramMatchQuerySchema(), location="query")
    @blp.response(200, ProgramMatchPageSchema)
    def get(self, query: dict[str, Any], program_id: int) -> Any:
        """The program's matches, newest first, by status (coordinators)."""
        return program_matches.list_matches(session(), current_account(), program_id, query)


@blp.route("/programs/<int:program_id>/matches/<int:match_id>/cancel")
class ProgramMatchCancel(MethodView):
    @policy("coordinator")
    @blp.arguments(CoordinatorCloseSchema())
    @blp.response(200, ProgramMatchSchema)
    @blp.alt_response(404, problem("No such match in this program"))
    @blp.alt_response(409, problem("Not a proposal any more (current_status says what it is)"))
    def post(self, data: dict[str, Any], program_id: int, match_id: int) -> Any:
        """Cancel a proposal, with a reason (coordinators)."""
        return program_matches.cancel(
            session(), current_account(), program_id, match_id, data["reason"]
        )


@blp.route("/programs/<int:program_id>/matches/<int:match_id>/end")
class ProgramMatchEnd(MethodView):
    @policy("coordinator")
    @blp.arguments(CoordinatorCloseSchema())
    @blp.response(200, ProgramMatchSchema)
    @blp.alt_response(404, problem("No such match in this program"))
    @blp.alt_response(409, problem("Not an active relationship (current_status says what it is)"))
    def post(self, data: dict[str, Any], program_id: int, match_id: int) -> Any:
        """End an active relationship, with a reason (coordinators)."""
        return program_matches.end(
            session(), current_account(), program_id, match_id, data["reason"]
        )


@blp.route("/programs/<int:program_id>/funnel")
class Funnel(MethodView):
    @policy("coordinator")
    @blp.response(200, FunnelSchema)
    def get(self, program_id: int) -> Any:
        """The program's funnel: stages, waiting reasons, rates, per round (coordinators)."""
        return funnel.funnel(session(), current_account(), program_id)
