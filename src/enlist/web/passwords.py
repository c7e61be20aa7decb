"""Admin passwords: argon2id, never stored or logged in the clear.

Only admin sign-in pays for a slow hash (about 0.1 s); SCIM bearer tokens are HMAC'd with a
pepper instead (`enlist.web.tokens`), because they are checked on every request.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()  # argon2id, argon2-cffi's RFC 9106 low-memory profile


class WeakPasswordError(ValueError):
    pass


def check_strength(password: str) -> None:
    """Refuse passwords an admin should not have: short, or only blanks."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise WeakPasswordError("the password must not be only blanks")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _decoy() -> str:
    """A hash of nothing anyone knows, made on first use (not at import: every command would pay)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_or_decoy(stored_hash: str | None, password: str) -> bool:
    """Verify against `stored_hash`, or spend the same time on a decoy when there is none, so an
    unknown email costs the same verify as a known one."""
    if stored_hash is None:
        verify_password(_decoy(), password)
        return False
    return verify_password(stored_hash, password)
