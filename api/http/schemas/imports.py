"""The CSV import of participants."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema

from api.http.schemas import fields


class CsvUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV file, UTF-8, header row"})


class ImportQuerySchema(Schema):
    invite = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Send every person new to the program an invitation (a link to "
            "set a password and log in). People whose email already has an account are "
            "always invited instead of enrolled."
        },
    )
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "Check the file and answer what would happen; write nothing"},
    )


class ImportSummarySchema(Schema):
    rows = fields.Integer(required=True)
    created = fields.Integer(
        required=True,
        metadata={
            "description": "People new to this program: enrolled with their row, or (when "
            "their email already has an account) invited to join; the answer does not say "
            "which"
        },
    )
    updated = fields.Integer(
        required=True,
        metadata={"description": "Participants whose coordinator-owned values changed"},
    )
    unchanged = fields.Integer(required=True)
    invited = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "Invitations sent (invite=true); null without invite, when only "
            "people who have an account are invited and how many is not said"
        },
    )
    dry_run = fields.Boolean(required=True)
