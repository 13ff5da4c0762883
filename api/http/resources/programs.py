"""Programs, their coordinators, and joining a program."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.http.bodies import Blueprint
from api.http.database import session
from api.http.limits import account_key, join_account_limit, join_limit, limiter
from api.http.openapi import problem
from api.http.policy import current_account, policy
from api.http.schemas.profiles import ParticipantSchema
from api.http.schemas.programs import (
    CoordinatorAppointSchema,
    CoordinatorSchema,
    JoinSchema,
    ProgramCreateSchema,
    ProgramSchema,
    ProgramUpdateSchema,
)
from api.services import programs

blp = Blueprint("programs", __name__, url_prefix="/api/v1/programs", description="Programs")


@blp.route("")
class Programs(MethodView):
    @policy("authenticated")
    @blp.response(200, ProgramSchema(many=True))
    def get(self) -> Any:
        """List the programs the caller coordinates or takes part in (admins: all)."""
        return programs.list_visible(session(), current_account())

    @policy("admin")
    @blp.arguments(ProgramCreateSchema())
    @blp.response(201, ProgramSchema)
    @blp.alt_response(409, problem("The slug or the join code is taken"))
    def post(self, data: dict[str, Any]) -> Any:
        """Create a program (admins)."""
        return programs.create(session(), current_account(), data)


@blp.route("/join")
class Join(MethodView):
    @policy("authenticated")
    @limiter.limit(join_limit)
    @limiter.limit(join_account_limit, key_func=account_key)
    @blp.arguments(JoinSchema())
    @blp.response(201, ParticipantSchema)
    @blp.alt_response(409, problem("You have joined this program already"))
    @blp.alt_response(429, "TooManyRequests")
    def post(self, data: dict[str, Any]) -> Any:
        """Join a program with its join code as mentor, mentee or both."""
        return programs.join(session(), current_account(), **data)


@blp.route("/<int:program_id>")
class ProgramItem(MethodView):
    @policy("member")
    @blp.response(200, ProgramSchema)
    def get(self, program_id: int) -> Any:
        """Read a program (members, coordinators, admins)."""
        return programs.get(session(), current_account(), program_id)

    @policy("coordinator")
    @blp.arguments(ProgramUpdateSchema())
    @blp.response(200, ProgramSchema)
    @blp.alt_response(
        409, problem("A tag to remove is still used by participants, or the join code is taken")
    )
    def patch(self, data: dict[str, Any], program_id: int) -> Any:
        """Change a program's name, description, taxonomy, settings or join code."""
        return programs.update(session(), current_account(), program_id, data)


@blp.route("/<int:program_id>/coordinators")
class Coordinators(MethodView):
    @policy("coordinator")
    @blp.response(200, CoordinatorSchema(many=True))
    def get(self, program_id: int) -> Any:
        """List the program's coordinators (coordinators, admins)."""
        return programs.list_coordinators(session(), current_account(), program_id)

    @policy("admin")
    @blp.arguments(CoordinatorAppointSchema())
    @blp.response(201, CoordinatorSchema)
    @blp.alt_response(404, problem("No such program"))
    @blp.alt_response(409, problem("This account coordinates the program already"))
    def post(self, data: dict[str, Any], program_id: int) -> Any:
        """Appoint an account as coordinator of the program (admins)."""
        return programs.appoint_coordinator(session(), program_id, data["email"])


@blp.route("/<int:program_id>/coordinators/<int:account_id>")
class CoordinatorItem(MethodView):
    @policy("admin")
    @blp.response(204)
    @blp.alt_response(404, problem("This account does not coordinate the program"))
    def delete(self, program_id: int, account_id: int) -> None:
        """Remove a coordinator from the program (admins)."""
        programs.remove_coordinator(session(), program_id, account_id)
