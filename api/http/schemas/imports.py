"""The CSV import of participants."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields


class CsvUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV file, UTF-8, header row"})


class ImportSummarySchema(Schema):
    rows = fields.Integer(required=True)
    accounts_created = fields.Integer(required=True)
    participants_created = fields.Integer(required=True)
    profiles_written = fields.Integer(required=True)
