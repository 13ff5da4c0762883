"""Marshmallow schemas: every request body and query, and every response (house rule 2).

One module per area. Input schemas reject unknown fields (marshmallow's default `RAISE`)
and name fields a caller may not write instead of ignoring them; checks that need the
program (taxonomy, capacity limit, role) are domain rules (`api.domain.profiles`) and
raise the same 422 shape. Output fields that are always present are `required`, so the
OpenAPI document says so.
"""
