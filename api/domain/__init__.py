"""The rules of a mentoring program, in plain Python (no Flask, no SQLAlchemy, no I/O).

- `vocabulary`: every closed set of words the service uses (statuses, roles, kinds), as
  `StrEnum`s; the database check constraints and the API's enums are built from them.
- `settings`: `ProgramSettings`, the one declaration of each matching setting (default,
  range, description, whether a round may override it, how the matcher gets it).
- `lifecycle`: the transition tables of a match and of a round; every status change
  goes through them and yields the event it caused.
- `profiles`: the profile rules that need the program (taxonomy, role, capacity,
  consent, references to oneself).
- `errors`: the domain's two errors, mapped to problem details by `api.http`.
"""
