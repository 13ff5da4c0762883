"""Who is calling: bearer-token authentication and the per-view policy declaration."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from copy import deepcopy
from datetime import datetime
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import Row, bindparam, select

from api.adapters.db import utcnow
from api.adapters.hashing import token_hash
from api.adapters.models import Account, Participant, Token
from api.errors import Forbidden, Unauthorized
from api.http import database as db
from api.http.bodies import check_media_type
from api.services import access
from api.services.access import CALLER_PARTICIPATION, PROFILE_LOADERS
from api.services.profile_views import OWN_VIEW

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
#: The statuses each policy can answer before the view runs (the OpenAPI document lists
#: them on every operation that declares the policy).
DENIALS: dict[str, tuple[int, ...]] = {
    "anonymous": (),
    "authenticated": (401,),
    "admin": (401, 403),
    "owner": (401, 404),
    "member": (401, 404),
    "coordinator": (401, 403, 404),
    "partner": (401, 404),
}


# Built once: constructing a statement costs more than running a cached one.
_TOKEN = (
    select(Token, Account)
    .join(Account, Account.id == Token.account_id)
    .where(Token.token_hash == bindparam("digest"))
)
# The owner policy next needs the caller's participation in the program, with the
# profile its views read: fetched with the token, one database round trip instead of two.
_TOKEN_AND_OWN_PROFILE = (
    select(Token, Account, Participant)
    .join(Account, Account.id == Token.account_id)
    .outerjoin(Participant, CALLER_PARTICIPATION)
    .where(Token.token_hash == bindparam("digest"))
    .options(*PROFILE_LOADERS)
)


def _digest() -> str:
    """The stored hash of the request's bearer token (401 when there is none)."""
    header = request.headers.get("Authorization")
    if not header:
        raise Unauthorized("Send an `Authorization: Bearer <token>` header.")
    match = BEARER_RE.match(header.strip())
    if not match:
        raise Unauthorized("The Authorization header is not a bearer token.")
    return token_hash(match.group(1))


def _check_token(revoked_at: datetime | None, expires_at: datetime) -> None:
    if revoked_at is not None:
        raise Unauthorized("The token has been revoked; log in again.")
    if expires_at <= utcnow():
        raise Unauthorized("The token has expired; log in again.")


def _load_token(program_id: int | None = None) -> tuple[Account, Token]:
    """The caller's account and token; with `program_id`, also their participation."""
    digest = _digest()
    session = db.session()
    participant = None
    if program_id is None:
        row = session.execute(_TOKEN, {"digest": digest}).one_or_none()
        if row is None:
            raise Unauthorized("The token is not recognised.")
        token, account = row
    else:
        found = (
            session.execute(_TOKEN_AND_OWN_PROFILE, {"digest": digest, "program_id": program_id})
            .unique()
            .one_or_none()
        )
        if found is None:
            raise Unauthorized("The token is not recognised.")
        token, account, participant = found
    _check_token(token.revoked_at, token.expires_at)
    if participant is not None and program_id is not None:
        access.remember_own_participant(session, account, program_id, participant)
    return account, token


def authenticate_secret(secret: str) -> tuple[Account, Token]:
    """The account and token of a bearer secret the caller holds elsewhere than in the
    Authorization header (the console keeps it in its session cookie): same checks."""
    row = db.session().execute(_TOKEN, {"digest": token_hash(secret)}).one_or_none()
    if row is None:
        raise Unauthorized("The token is not recognised.")
    token, account = row
    _check_token(token.revoked_at, token.expires_at)
    return account, token


def _load_own_view(program_id: int) -> None:
    # The owner policy of a read: the caller and their whole profile in one statement on
    # a read connection, no session (profile_views.OWN_VIEW); the rows wait in `g` for the view.
    digest = _digest()
    with db.database().read() as conn:
        rows = conn.execute(OWN_VIEW, {"digest": digest, "program_id": program_id}).all()
    if not rows:
        raise Unauthorized("The token is not recognised.")
    first = rows[0]
    _check_token(first.token_revoked_at, first.token_expires_at)
    g.account_id = first.caller_id
    if first.id is None:
        raise access.not_joined(program_id)
    g.own_view_rows = rows


def own_view_rows() -> Sequence[Row[Any]]:
    """The rows of profile_views.OWN_VIEW the owner policy of a read loaded for this request."""
    rows: Sequence[Row[Any]] = g.own_view_rows
    return rows


def current_account() -> Account:
    """The authenticated account of this request (the view's policy ran first)."""
    account: Account | None = g.get("account")
    if account is None:
        # Authenticated by a read without a session (the owner's profile read).
        account = db.session().get(Account, g.account_id)
        if account is None:
            raise Unauthorized("The token is not recognised.")
        g.account = account
    return account


def current_token() -> Token:
    token: Token = g.token
    return token


def _enforce(name: str, account: Account, kwargs: dict[str, Any]) -> None:
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


#: The same checks for other ways in (the console's session).
enforce = _enforce


def policy(name: str, *, database: bool = True) -> Callable[[F], F]:
    """Declare who may call a view, and enforce the authentication part of it.

    `database=False` marks a view that never touches the database (it then cannot answer
    503 when the database is down).
    """
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if name == "owner" and request.method in db.SAFE_METHODS:
                _load_own_view(kwargs["program_id"])
            elif name != "anonymous":
                account, token = _load_token(kwargs["program_id"] if name == "owner" else None)
                g.account, g.token, g.account_id = account, token, account.id
                _enforce(name, account, kwargs)
            check_media_type(view)
            return view(*args, **kwargs)

        wrapper._policy = name  # type: ignore[attr-defined]
        wrapper._uses_database = database  # type: ignore[attr-defined]
        if name != "anonymous":
            # Same structure flask-smorest's Blueprint.doc writes, so the OpenAPI
            # document shows the bearer requirement on the operation.
            apidoc = deepcopy(getattr(view, "_apidoc", {}))
            manual = apidoc.setdefault("manual_doc", {})
            manual["security"] = SECURITY
            wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
