"""The Jinja environment of the service's templates (`api/templates/`).

`messages/` holds every message the service sends (a subject, a plain-text and an HTML
body per kind); `pages/` the few server-rendered pages (answering from an email).
HTML is autoescaped; an undefined name is an error, never an empty string.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def render(name: str, context: dict[str, Any]) -> str:
    return environment().get_template(name).render(**context)
