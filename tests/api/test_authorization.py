"""Every route declares a policy, and the policy holds for every role (the matrix)."""

from __future__ import annotations

import re

from sqlalchemy import select

from api.adapters.models import Constraint, Match
from api.http.policy import POLICIES

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROLES = (
    "anonymous",
    "owner",
    "other_participant",
    "partner",
    "participant_elsewhere",
    "coordinator_elsewhere",
    "coordinator",
    "admin",
)
ALLOWED = object()
# Expected outcome per policy and role: ALLOWED, or the denial status.
MATRIX = {
    "anonymous": dict.fromkeys(ROLES, ALLOWED),
    "authenticated": {r: (401 if r == "anonymous" else ALLOWED) for r in ROLES},
    "admin": {r: {"anonymous": 401, "admin": ALLOWED}.get(r, 403) for r in ROLES},
    "member": {
        "anonymous": 401,
        "owner": ALLOWED,
        "other_participant": ALLOWED,
        "partner": ALLOWED,
        "participant_elsewhere": 404,
        "coordinator_elsewhere": 404,
        "coordinator": ALLOWED,
        "admin": ALLOWED,
    },
    "coordinator": {
        "anonymous": 401,
        "owner": 403,
        "other_participant": 403,
        "partner": 403,
        "participant_elsewhere": 404,
        "coordinator_elsewhere": 404,
        "coordinator": ALLOWED,
        "admin": ALLOWED,
    },
    "owner": {
        "anonymous": 401,
        "owner": ALLOWED,
        "other_participant": ALLOWED,
        "partner": ALLOWED,
        "participant_elsewhere": 404,
        "coordinator_elsewhere": 404,
        "coordinator": 404,
        "admin": 404,
    },
    "partner": {
        "anonymous": 401,
        "owner": ALLOWED,
        "other_participant": 404,
        "partner": ALLOWED,
        "participant_elsewhere": 404,
        "coordinator_elsewhere": 404,
        "coordinator": 404,
        "admin": 404,
    },
}
DENIAL_DETAIL = re.compile(r"^(Program|Match) \d+ does not exist\.|^You have not joined program")
#: The console's pages (api/http/console) declare the same policies; a browser session
#: (cookie) stands for the bearer token, so they have a matrix of their own, with the
#: page's answers to the API's denials: 401 -> to the log-in form (302), 403, 404.
CONSOLE = "/console"
CONSOLE_DENIAL_PAGE = re.compile(
    r"(Program|Match) \d+ does not exist\.|You have not joined program"
)


def routes(app):
    """(rule, method, policy) for every API route of the app."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "swagger_ui_static") or rule.endpoint.startswith(
            "api-docs."
        ):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(set(rule.methods or ()) & set(METHODS)):
            handler = getattr(getattr(view, "view_class", None), method.lower(), view)
            out.append((rule, method, getattr(handler, "_policy", None)))
    return out


def test_every_route_declares_a_policy(app):
    found = routes(app)
    missing = [f"{m} {r.rule}" for r, m, p in found if p not in POLICIES]
    assert not missing, f"routes without a declared policy: {missing}"
    assert len(found) >= 45


def matrix_cells(app, client, world, session, connection):
    """Every route called as every role: yields (method, path, policy, role, response).

    Each call runs in a savepoint rolled back afterwards: no call sees another's writes
    (a DELETE /me or /tokens/current would otherwise end the matrix).
    """
    p = world["program"]
    people = world["people"]
    match = session.scalar(select(Match).where(Match.round_id == world["round_id"]))
    assert match is not None and match.mentee_id == people["owner"]["participant_id"]
    constraint = session.scalar(select(Constraint).where(Constraint.program_id == p["id"]))
    values = {
        "program_id": p["id"],
        "round_id": world["round_id"],
        "match_id": match.id,
        "participant_id": people["owner"]["participant_id"],
        "constraint_id": constraint.id,
        "account_id": people["coordinator"]["id"],
        "concern_id": world["concern_id"],
    }
    for rule, method, policy in routes(app):
        if rule.rule.startswith(CONSOLE):
            continue  # console_matrix_cells
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value))
        for role in ROLES:
            headers = {} if role == "anonymous" else dict(people[role]["headers"])
            savepoint = connection.begin_nested()
            kwargs = {"headers": headers}
            if method in ("POST", "PUT", "PATCH"):
                kwargs["json"] = {}
            r = client.open(path, method=method, **kwargs)
            savepoint.rollback()
            yield method, path, policy, role, r


def test_the_authorization_matrix_holds_for_every_route_and_role(
    app, client, world, session, connection
):
    cells = failures = 0
    problems = []
    for method, path, policy, role, r in matrix_cells(app, client, world, session, connection):
        cells += 1
        expected = MATRIX[policy][role]
        body = r.get_json(silent=True) or {}
        denied_404 = r.status_code == 404 and DENIAL_DETAIL.match(body.get("detail", ""))
        if expected is ALLOWED:
            # (/readyz is 503 here: the test schema comes from create_all, not Alembic.)
            server_error = r.status_code >= 500 and path != "/readyz"
            ok = r.status_code not in (401, 403) and not denied_404 and not server_error
        else:
            ok = r.status_code == expected
        if not ok:
            failures += 1
            problems.append(
                f"{method} {path} as {role} ({policy}): got {r.status_code}, "
                f"expected {'allowed' if expected is ALLOWED else expected}"
            )
    print(f"\nauthorization matrix: {cells} cells checked, {failures} failures")
    assert not problems, "\n".join(problems)


def console_matrix_cells(app, world, session, connection):
    """Every console route opened in every role's browser session (logged in through the
    console's form), each in a savepoint rolled back afterwards; yields like matrix_cells."""
    from tests.api.console import Console, csrf_of, logged_in

    p = world["program"]
    people = world["people"]
    match = session.scalar(select(Match).where(Match.round_id == world["round_id"]))
    values = {
        "program_id": p["id"],
        "round_id": world["round_id"],
        "match_id": match.id,
        "participant_id": people["owner"]["participant_id"],
    }
    consoles = {
        role: Console(app) if role == "anonymous" else logged_in(app, people[role]["email"])
        for role in ROLES
    }
    # An anonymous browser has a session too (the log-in form's), so a CSRF token.
    consoles["anonymous"].csrf = csrf_of(consoles["anonymous"].get("/console/login").text)
    for rule, method, policy in routes(app):
        if not rule.rule.startswith(CONSOLE):
            continue
        path = rule.rule.replace("<path:filename>", "console.css")
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value))
        for role in ROLES:
            console = consoles[role]
            kept = console.client.get_cookie("session")
            savepoint = connection.begin_nested()
            if method == "POST":
                r = console.post(path, {"reason": "matrix", "kind": "forbid"})
            else:
                r = console.client.open(path, method=method)
            r.get_data()
            r.close()  # a static file's answer holds the file open until closed
            savepoint.rollback()
            if kept is not None:  # log-out and log-in change the cookie: the next cell keeps it
                console.client.set_cookie("session", kept.value)
            yield method, path, policy, role, r


def _to_log_in(r) -> bool:
    return r.status_code == 302 and r.headers.get("Location", "").startswith("/console/login")


def test_the_console_routes_hold_the_same_matrix_for_every_role(app, world, session, connection):
    cells = 0
    problems = []
    for method, path, policy, role, r in console_matrix_cells(app, world, session, connection):
        cells += 1
        expected = MATRIX[policy][role]
        denied_404 = r.status_code == 404 and CONSOLE_DENIAL_PAGE.search(r.text)
        if expected is ALLOWED:
            ok = (
                not _to_log_in(r)
                # (401 is the log-in form's own answer to a wrong password, never a denial)
                and r.status_code not in (400, 403)
                and not denied_404
                and r.status_code < 500
            )
        elif expected == 401:
            ok = _to_log_in(r)
        else:
            ok = r.status_code == expected
        if not ok:
            problems.append(
                f"{method} {path} as {role} ({policy}): got {r.status_code}, "
                f"expected {'allowed' if expected is ALLOWED else expected}"
            )
    print(f"\nconsole authorization matrix: {cells} cells checked, {len(problems)} failures")
    assert cells >= 20 * len(ROLES)
    assert not problems, "\n".join(problems)
