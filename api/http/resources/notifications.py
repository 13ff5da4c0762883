"""Invitations, password resets and notification settings."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.http import context
from api.http.bodies import Blueprint
from api.http.database import session
from api.http.limits import limiter, password_reset_limit, reset_key
from api.http.openapi import problem
from api.http.policy import current_account, policy
from api.http.schemas.accounts import TokenSchema
from api.http.schemas.notifications import (
    InvitationAcceptSchema,
    InvitationBatchSchema,
    InvitationResultSchema,
    NotificationSettingsPatchSchema,
    NotificationSettingsSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestedSchema,
    PasswordResetRequestSchema,
)
from api.services import invitations, passwords, preferences

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1", description="Invitations and messages"
)


@blp.route("/programs/<int:program_id>/invitations")
class Invitations(MethodView):
    @policy("coordinator")
    @blp.arguments(InvitationBatchSchema())
    @blp.response(202, InvitationResultSchema)
    def post(self, data: dict[str, Any], program_id: int) -> Any:
        """Invite people by email to join the program in a role (coordinators)."""
        return invitations.invite(session(), current_account(), program_id, data["invitations"])


@blp.route("/invitations/accept")
class InvitationAccept(MethodView):
    @policy("anonymous")
    @limiter.limit(password_reset_limit)
    @blp.arguments(InvitationAcceptSchema())
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, problem("The account has a password and it was not given"))
    @blp.alt_response(410, problem("The link is unknown, expired or used (type link-invalid)"))
    @blp.alt_response(429, "TooManyRequests")
    def post(self, data: dict[str, Any]) -> Any:
        """Accept an invitation: set your password and name, join, get a bearer token."""
        return invitations.accept(session(), **data, token_ttl=context.token_ttl())


@blp.route("/password-resets")
class PasswordResets(MethodView):
    @policy("anonymous")
    @limiter.limit(password_reset_limit)
    @limiter.limit(password_reset_limit, key_func=reset_key)
    @blp.arguments(PasswordResetRequestSchema())
    @blp.response(202, PasswordResetRequestedSchema)
    @blp.alt_response(429, "TooManyRequests")
    def post(self, data: dict[str, Any]) -> Any:
        """Ask for a password reset link by email (always 202: nothing says if it exists)."""
        return passwords.request(session(), data["email"])


@blp.route("/password-resets/confirm")
class PasswordResetConfirm(MethodView):
    @policy("anonymous")
    @limiter.limit(password_reset_limit)
    @blp.arguments(PasswordResetConfirmSchema())
    @blp.response(204)
    @blp.alt_response(410, problem("The link is unknown, expired or used (type link-invalid)"))
    @blp.alt_response(429, "TooManyRequests")
    def post(self, data: dict[str, Any]) -> None:
        """Set a new password with a reset link's token; every session is logged out."""
        passwords.confirm(session(), **data)


@blp.route("/me/notification-settings")
class MyNotificationSettings(MethodView):
    @policy("authenticated")
    @blp.response(200, NotificationSettingsSchema)
    def get(self) -> Any:
        """Which optional messages you get (invitations, resets, proposals always go)."""
        return preferences.get(session(), current_account())

    @policy("authenticated")
    @blp.arguments(NotificationSettingsPatchSchema())
    @blp.response(200, NotificationSettingsSchema)
    def patch(self, data: dict[str, Any]) -> Any:
        """Turn reminders, check-in prompts or digests on or off."""
        return preferences.change(session(), current_account(), data)
