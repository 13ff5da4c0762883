"""Helpers of the console tests: a browser-like client logged in through the form."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Console:
    """One person's browser session of the console (its own cookie jar)."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        self.csrf = ""

    def log_in(self, email: str, password: str = PASSWORD):
        page = self.client.get("/console/login")
        r = self.client.post(
            "/console/login",
            data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        )
        if r.status_code == 303:
            self.csrf = csrf_of(self.client.get("/console/").text)
        return r

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, **kw):
        body = {"csrf_token": self.csrf, **(data or {})}
        return self.client.post(path, data=body, **kw)


def logged_in(app: Flask, email: str, password: str = PASSWORD) -> Console:
    console = Console(app)
    r = console.log_in(email, password)
    assert r.status_code == 303, r.text
    return console
