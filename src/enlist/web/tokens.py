"""Bearer tokens both services mint (the portal's Secret tokens, every API token): shown once,
stored only as an HMAC-SHA256 digest.

A token reads `enl_<key_id>_<secret>`. The key id (public, 12 characters) finds the stored row;
the secret (256 bits) is never stored, only `HMAC-SHA256(pepper, secret)`, compared in constant
time. The pepper lives outside the database (settings or a file in the data directory), so a
copy of the database alone cannot be used to forge or check a token. Peppers carry an id so an
operator can rotate to a new one while tokens minted under the old one keep working.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

TOKEN_PREFIX = "enl_"  # noqa: S105 (a public prefix that makes leaked tokens greppable)
KEY_ID_BYTES = 9
KEY_ID_LENGTH = 12  # url-safe base64 of 9 bytes
SECRET_BYTES = 32
_DUMMY_DIGEST = "0" * 64


@dataclass(frozen=True, slots=True)
class Pepper:
    """A server-side HMAC key and its short id (the first 8 hex digits of its own SHA-256)."""

    secret: bytes

    @property
    def pepper_id(self) -> str:
        return hashlib.sha256(self.secret).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class MintedToken:
    """What minting yields: `token` is shown once; only `key_id`, `digest`, `pepper_id` are stored."""

    token: str
    key_id: str
    digest: str
    pepper_id: str


@dataclass(frozen=True, slots=True)
class StoredToken:
    """A token row as the store keeps it."""

    tenant_id: int
    key_id: str
    digest: str
    pepper_id: str
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        """Not revoked and, when an overlap window was set by a rotation, not yet past it."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


def digest(pepper: Pepper, secret: str) -> str:
    return hmac.new(pepper.secret, secret.encode(), hashlib.sha256).hexdigest()


def mint(pepper: Pepper) -> MintedToken:
    key_id = secrets.token_urlsafe(KEY_ID_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return MintedToken(
        token=f"{TOKEN_PREFIX}{key_id}_{secret}",
        key_id=key_id,
        digest=digest(pepper, secret),
        pepper_id=pepper.pepper_id,
    )


def split(token: str) -> tuple[str, str] | None:
    """`(key_id, secret)` of a well-formed token, else None.

    A key id is url-safe base64 and may itself contain `_`, so it is cut by its fixed length.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    body = token[len(TOKEN_PREFIX) :]
    if len(body) < KEY_ID_LENGTH + 2 or body[KEY_ID_LENGTH] != "_":
        return None
    return body[:KEY_ID_LENGTH], body[KEY_ID_LENGTH + 1 :]


def verify(peppers: dict[str, Pepper], stored: StoredToken | None, secret: str) -> bool:
    """Constant-time check of `secret` against `stored`; does the same work when nothing is stored,
    so the time taken says nothing about which part of a token was right."""
    pepper = peppers.get(stored.pepper_id) if stored else None
    expected = stored.digest if stored and pepper else _DUMMY_DIGEST
    candidate = digest(pepper or next(iter(peppers.values())), secret)
    return hmac.compare_digest(candidate, expected) and stored is not None and pepper is not None
