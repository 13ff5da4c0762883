"""Accounts, tokens and the caller's own account."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.errors import Unauthorized
from api.http import context
from api.http.bodies import Blueprint
from api.http.database import session
from api.http.limits import LOGIN_SCOPE, LoginGuard, limiter, login_limit, register_limit
from api.http.openapi import problem
from api.http.policy import current_account, current_token, policy
from api.http.schemas.accounts import (
    AccountCreateSchema,
    AccountSchema,
    MeSchema,
    TokenRequestSchema,
    TokenSchema,
)
from api.http.schemas.privacy import EraseSchema, ExportSchema
from api.services import accounts, privacy

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts and log-in")


@blp.route("/accounts")
class Accounts(MethodView):
    @policy("anonymous")
    @limiter.limit(register_limit)
    @blp.arguments(AccountCreateSchema())
    @blp.response(201, AccountSchema)
    @blp.alt_response(409, problem("An account with this email exists"))
    @blp.alt_response(429, "TooManyRequests")
    def post(self, data: dict[str, Any]) -> Any:
        """Register an account."""
        return accounts.register(session(), **data)


@blp.route("/tokens")
class Tokens(MethodView):
    @policy("anonymous")
    @limiter.shared_limit(login_limit, scope=LOGIN_SCOPE)
    @blp.arguments(TokenRequestSchema())
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, problem("The email or the password is wrong"))
    @blp.alt_response(429, "TooManyRequests")
    def post(self, data: dict[str, Any]) -> Any:
        """Log in: exchange email and password for a bearer token."""
        guard = LoginGuard(data["email"])
        guard.check()
        try:
            return accounts.log_in(session(), **data, token_ttl=context.token_ttl())
        except Unauthorized:
            # The request's transaction ends first (on SQLite it holds the write lock).
            session().rollback()
            guard.failed()
            raise


@blp.route("/tokens/current")
class CurrentToken(MethodView):
    @policy("authenticated")
    @blp.response(204)
    def delete(self) -> None:
        """Log out: revoke the token used for this request."""
        accounts.revoke(session(), current_token())


@blp.route("/me")
class Me(MethodView):
    @policy("authenticated")
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """The caller's account and program memberships."""
        return accounts.me(session(), current_account())

    @policy("authenticated")
    @blp.arguments(EraseSchema())
    @blp.response(204)
    @blp.alt_response(403, problem("The password is wrong (type wrong-password)"))
    def delete(self, data: dict[str, Any]) -> None:
        """Erase your account: personal data removed, matches kept only as statistics."""
        privacy.erase(session(), current_account(), data["password"])


@blp.route("/me/export")
class MyExport(MethodView):
    @policy("authenticated")
    @blp.response(200, ExportSchema)
    def get(self) -> Any:
        """Everything held about you, as JSON."""
        return privacy.export(session(), current_account())
