"""Password hashing (argon2id) and opaque bearer tokens stored as hashes."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
# Verified against when an email is unknown, so that a login attempt takes the same time
# whether or not the account exists.
_DUMMY_HASH = HASHER.hash("peermatch-timing-equaliser")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


TOKEN_BYTES = 32


def new_token() -> tuple[str, str]:
    """Return (secret given to the client, hash stored in the database)."""
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    return secret, token_hash(secret)


def token_hash(secret: str) -> str:
    # A token has 256 bits of entropy, so a fast hash is enough (no brute force possible);
    # it keeps a database leak from handing out usable tokens.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
