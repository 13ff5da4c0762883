"""The application factory: it only wires the parts together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from api import config as config_module
from api.http import bodies, console, database, delivery, hooks, limits, openapi, pages, problems
from api.http.resources import (
    accounts,
    health,
    matches,
    notifications,
    profiles,
    programs,
    rounds,
    wellbeing,
)


class IdConverter(IntegerConverter):
    """`<int:...>` ids fit the id columns (PostgreSQL `integer`); others name nothing (404).

    Without the bound a huge id reaches the database and fails there with a 500.
    """

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides what the environment says (tests use it)."""
    app = Flask("api", instance_relative_config=False)
    app.url_map.converters["int"] = IdConverter
    app.config.update(config_module.load())
    if config:
        app.config.update(config)
    bodies.init_app(app)

    database.init_app(app)
    problems.init_app(app)
    limits.init_app(app)
    api = openapi.init_app(app)
    for module in (health, accounts, programs, profiles, rounds, matches, notifications, wellbeing):
        api.register_blueprint(module.blp)
    openapi.finish(api)
    # HTML pages the links of messages open: not part of the API's document.
    app.register_blueprint(pages.blp)
    # The coordinator console (api/http/console): pages over the same services.
    console.init_app(app)
    delivery.init_app(app)
    hooks.init_app(app)
    _trust_proxies(app, int(app.config.get("TRUSTED_PROXY_COUNT") or 0))
    return app


def _trust_proxies(app: Flask, count: int) -> None:
    """Behind `count` reverse proxies, take the client's address (and scheme and host)
    from the X-Forwarded-* headers they set, so that the log-in and registration limits
    count per real client. Only that many hops are trusted: a client cannot pose as
    another by sending the headers itself, and with 0 (the default) they are ignored."""
    if count > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )
