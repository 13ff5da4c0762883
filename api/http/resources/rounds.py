"""Matching rounds and coordinator constraints of a program."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask.views import MethodView

from api.http import context
from api.http.bodies import Blueprint
from api.http.database import session
from api.http.openapi import problem
from api.http.policy import current_account, policy
from api.http.schemas.rounds import (
    ConstraintCreateSchema,
    ConstraintSchema,
    CsvQuerySchema,
    IdempotencyHeaderSchema,
    PublishedRoundSchema,
    RematchRunSchema,
    RoundPairPageSchema,
    RoundPairQuerySchema,
    RoundReportSchema,
    RoundSchema,
    RoundStartSchema,
    UnmatchedSchema,
)
from api.services import (
    constraints,
    exports,
    publishing,
    rematch,
    round_review,
    round_runs,
)

#: A CSV answer: UTF-8 text (with a byte order mark for `excel=true`), a header row,
#: cells that spreadsheets would run as formulas neutralised with a leading apostrophe.
CSV = {"type": "string", "description": "CSV text with a header row"}

blp = Blueprint(
    "rounds", __name__, url_prefix="/api/v1/programs", description="Matching rounds (coordinators)"
)


@blp.route("/<int:program_id>/rounds")
class Rounds(MethodView):
    @policy("coordinator")
    @blp.response(200, RoundSchema(many=True))
    def get(self, program_id: int) -> Any:
        """List the program's rounds, newest first."""
        return round_review.list_rounds(session(), current_account(), program_id, context.runners())

    @policy("coordinator")
    @blp.arguments(RoundStartSchema())
    @blp.response(202, RoundSchema)
    @blp.alt_response(409, problem("Another round of the program is queued or running"))
    def post(self, overrides: dict[str, Any], program_id: int) -> Any:
        """Start a matching round (runs in the background when a worker queue is set)."""
        db = session()
        runners = context.runners()
        round_ = round_runs.start(
            db,
            current_account(),
            program_id,
            overrides,
            max_round_size=context.max_round_size(),
            runners=runners,
        )
        round_runs.dispatch(db, round_.id, runners.jobs, runners)
        db.refresh(round_)
        location = url_for("rounds.RoundItem", program_id=program_id, round_id=round_.id)
        return round_, {"Location": location}


@blp.route("/<int:program_id>/rounds/<int:round_id>")
class RoundItem(MethodView):
    @policy("coordinator")
    @blp.response(200, RoundSchema)
    def get(self, program_id: int, round_id: int) -> Any:
        """Read a round: status, progress, statistics, failure detail."""
        return round_review.get(
            session(), current_account(), program_id, round_id, context.runners()
        )


@blp.route("/<int:program_id>/rounds/<int:round_id>/pairs")
class RoundPairs(MethodView):
    @policy("coordinator")
    @blp.arguments(RoundPairQuerySchema(), location="query")
    @blp.response(200, RoundPairPageSchema)
    @blp.alt_response(409, problem("The round is queued, running or failed: no results yet"))
    def get(self, query: dict[str, Any], program_id: int, round_id: int) -> Any:
        """List the round's proposed pairs with their explanation, sorted by score."""
        return round_review.list_pairs(session(), current_account(), program_id, round_id, query)


@blp.route("/<int:program_id>/rounds/<int:round_id>/matches")
class RoundPairsOldPath(MethodView):
    @policy("coordinator")
    @blp.arguments(RoundPairQuerySchema(), location="query")
    @blp.response(200, RoundPairPageSchema)
    @blp.doc(deprecated=True)
    @blp.alt_response(409, problem("The round is queued, running or failed: no results yet"))
    def get(self, query: dict[str, Any], program_id: int, round_id: int) -> Any:
        """The round's proposed pairs (before publishing they are not matches): use …/pairs."""
        return round_review.list_pairs(session(), current_account(), program_id, round_id, query)


def _csv(query: dict[str, Any], program_id: int, round_id: int) -> Response:
    body = exports.round_pairs_csv(
        session(), current_account(), program_id, round_id, excel=query["excel"]
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="round-{round_id}-pairs.csv"'},
    )


@blp.route("/<int:program_id>/rounds/<int:round_id>/pairs.csv")
class RoundPairsCsv(MethodView):
    @policy("coordinator")
    @blp.arguments(CsvQuerySchema(), location="query")
    @blp.response(200, CSV, content_type="text/csv")
    @blp.alt_response(409, problem("The round is queued, running or failed: no results yet"))
    def get(self, query: dict[str, Any], program_id: int, round_id: int) -> Response:
        """Export the round's pairs as CSV, with both partners' contact emails."""
        return _csv(query, program_id, round_id)


@blp.route("/<int:program_id>/rounds/<int:round_id>/matches.csv")
class RoundPairsCsvOldPath(MethodView):
    @policy("coordinator")
    @blp.arguments(CsvQuerySchema(), location="query")
    @blp.response(200, CSV, content_type="text/csv")
    @blp.doc(deprecated=True)
    @blp.alt_response(409, problem("The round is queued, running or failed: no results yet"))
    def get(self, query: dict[str, Any], program_id: int, round_id: int) -> Response:
        """Export the round's pairs as CSV: use …/pairs.csv."""
        return _csv(query, program_id, round_id)


@blp.route("/<int:program_id>/rounds/<int:round_id>/unmatched")
class RoundUnmatched(MethodView):
    @policy("coordinator")
    @blp.response(200, UnmatchedSchema(many=True))
    @blp.alt_response(409, problem("The round is queued, running or failed: no results yet"))
    def get(self, program_id: int, round_id: int) -> Any:
        """List the mentees the round left unmatched, with machine-readable reasons."""
        return round_review.list_unmatched(session(), current_account(), program_id, round_id)


@blp.route("/<int:program_id>/rounds/<int:round_id>/report")
class RoundReport(MethodView):
    @policy("coordinator")
    @blp.response(200, RoundReportSchema)
    @blp.alt_response(409, problem("The round is queued, running or failed: no results yet"))
    def get(self, program_id: int, round_id: int) -> Any:
        """The round's statistics: scores, load distribution, blocking pairs, reasons."""
        return round_review.report(session(), current_account(), program_id, round_id)


@blp.route("/<int:program_id>/rounds/<int:round_id>/discard")
class RoundDiscard(MethodView):
    @policy("coordinator")
    @blp.response(200, RoundSchema)
    @blp.alt_response(
        409, problem("The round is published or discarded, or running with a live runner")
    )
    def post(self, program_id: int, round_id: int) -> Any:
        """Discard a round that will not be published."""
        return round_runs.discard(session(), current_account(), program_id, round_id)


@blp.route("/<int:program_id>/rounds/<int:round_id>/publish")
class RoundPublish(MethodView):
    @policy("coordinator")
    @blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @blp.response(200, PublishedRoundSchema)
    @blp.alt_response(409, "StaleRound")
    def post(self, headers: dict[str, Any], program_id: int, round_id: int) -> Any:
        """Publish a proposed round: its pairs become match proposals, all or none."""
        return publishing.publish(
            session(), current_account(), program_id, round_id, headers.get("idempotency_key")
        )


@blp.route("/<int:program_id>/rematch-runs")
class RematchRuns(MethodView):
    @policy("coordinator")
    @blp.response(200, RematchRunSchema(many=True))
    def get(self, program_id: int) -> Any:
        """Past nightly rematch runs of the program and their summaries."""
        return rematch.runs(session(), current_account(), program_id)


@blp.route("/<int:program_id>/constraints")
class Constraints(MethodView):
    @policy("coordinator")
    @blp.response(200, ConstraintSchema(many=True))
    def get(self, program_id: int) -> Any:
        """List the program's pins and forbids."""
        return constraints.list_constraints(session(), current_account(), program_id)

    @policy("coordinator")
    @blp.arguments(ConstraintCreateSchema())
    @blp.response(201, ConstraintSchema)
    @blp.alt_response(409, problem("The pair has a constraint, or the mentee is pinned already"))
    def post(self, data: dict[str, Any], program_id: int) -> Any:
        """Pin a pair (must pair) or forbid it (never pair) in the next rounds."""
        return constraints.add(session(), current_account(), program_id, data)


@blp.route("/<int:program_id>/constraints/<int:constraint_id>")
class ConstraintItem(MethodView):
    @policy("coordinator")
    @blp.response(204)
    def delete(self, program_id: int, constraint_id: int) -> None:
        """Remove a pin or forbid."""
        constraints.remove(session(), current_account(), program_id, constraint_id)
