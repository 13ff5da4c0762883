"""The coordinator console: server-rendered pages over the API's own services.

`base` holds the frame (blueprint, policy, headers, CSRF, error pages), `views` the
pages, `charts` the geometry of the SVG charts, `text` every word shown.
"""

from __future__ import annotations

from flask import Flask

from api.http.console import views  # noqa: F401  (registers the pages on the blueprint)
from api.http.console.base import blp, csrf


def init_app(app: Flask) -> None:
    # The session cookie holds the console's log-in: never readable by scripts, sent on
    # top-level navigation from other sites only (Lax), and only over HTTPS outside
    # debug (CONSOLE_SECURE_COOKIE=0 for a plain-HTTP local demo).
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = (
        bool(app.config.get("CONSOLE_SECURE_COOKIE", True)) and not app.debug
    )
    # The console checks CSRF on its own forms (base._check_csrf); the API's bearer-token
    # requests and the message pages' single-use links need none.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the session's token lasts with it
    csrf.init_app(app)
    app.register_blueprint(blp)
