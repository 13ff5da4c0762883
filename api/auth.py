"""Who is calling: bearer-token authentication and the per-view policy declaration."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import select

from api import db
from api.errors import Forbidden, Unauthorized
from api.models import Account, Token
from api.security import token_hash

F = TypeVar("F", bound=Callable[..., Any])

BEARER_RE = re.compile(r"^Bearer ([A-Za-z0-9_\-]{20,200})$")
SECURITY = [{"bearerAuth": []}]

# Who may call a view. Every view declares one (a test walks the URL map for it); the
# decorator enforces it before the body is even parsed, and services check again.
#   anonymous      anybody
#   authenticated  any logged-in account, acting on itself (/me, joining, its token)
#   admin          platform admins
#   owner          a participant of the program, acting on their own profile
#   member         anybody with a part in the program (participants, coordinators, admins)
#   coordinator    the program's coordinators and admins
#   partner        the mentee or the mentor of the match
# Denials: 401 without a valid token; 404 when the caller has no part in the program or
# match (its existence would leak); 403 when a member asks for coordinator or admin powers.
POLICIES = (
    "anonymous",
    "authenticated",
    "admin",
    "owner",
    "member",
    "coordinator",
    "partner",
)


def _load_token() -> tuple[Account, Token]:
    header = request.headers.get("Authorization")
    if not header:
        raise Unauthorized("Send an `Authorization: Bearer <token>` header.")
    match = BEARER_RE.match(header.strip())
    if not match:
        raise Unauthorized("The Authorization header is not a bearer token.")
    row = (
        db.session()
        .execute(
            select(Token, Account)
            .join(Account, Account.id == Token.account_id)
            .where(Token.token_hash == token_hash(match.group(1)))
        )
        .first()
    )
    if row is None:
        raise Unauthorized("The token is not recognised.")
    token, account = row
    if token.revoked_at is not None:
        raise Unauthorized("The token has been revoked; log in again.")
    if token.expires_at <= db.utcnow():
        raise Unauthorized("The token has expired; log in again.")
    return account, token


def current_account() -> Account:
    """The authenticated account of this request (the view's policy ran first)."""
    account: Account = g.account
    return account


def current_token() -> Token:
    token: Token = g.token
    return token


def _enforce(name: str, account: Account, kwargs: dict[str, Any]) -> None:
    from api.services import access

    session = db.session()
    if name == "admin" and not account.is_admin:
        raise Forbidden("Only platform admins may do this.")
    if name == "member":
        access.program_for_member(session, account, kwargs["program_id"])
    elif name == "coordinator":
        access.program_for_coordinator(session, account, kwargs["program_id"])
    elif name == "owner":
        access.own_profile_program(session, account, kwargs["program_id"])
    elif name == "partner":
        access.match_side(session, account, kwargs["match_id"])


def policy(name: str) -> Callable[[F], F]:
    """Declare who may call a view, and enforce the authentication part of it."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if name != "anonymous":
                account, token = _load_token()
                g.account, g.token = account, token
                _enforce(name, account, kwargs)
            return view(*args, **kwargs)

        wrapper._policy = name  # type: ignore[attr-defined]
        if name != "anonymous":
            # Same structure flask-smorest's Blueprint.doc writes, so the OpenAPI
            # document shows the bearer requirement on the operation.
            apidoc = deepcopy(getattr(view, "_apidoc", {}))
            manual = apidoc.setdefault("manual_doc", {})
            manual["security"] = SECURITY
            wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
