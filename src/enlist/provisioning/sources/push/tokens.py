"""A push source's bearer tokens: minted, shown once, kept only as digests, rotated with overlap.

The portal's Secret token scheme (`enlist.web.tokens`: `enl_<key id>_<secret>`, an
HMAC-SHA256 digest compared in constant time) with a pepper of the source's own. Pepper and
digests live in the source's sealed secrets (`sources.secrets`, Fernet under the service's key),
so a copy of the database alone can neither check nor forge a token. A rotation mints a new
token and lets the older ones work until the overlap window closes (0: at once), so a client
can be moved to the new token without an outage. Each source has its own pepper and tokens:
another source's token never matches.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from enlist.web import tokens as scheme

PEPPER_KEY = "push_pepper"
TOKENS_KEY = "push_tokens"


def _pepper(sealed: Mapping[str, Any]) -> scheme.Pepper:
    return scheme.Pepper(bytes.fromhex(str(sealed[PEPPER_KEY])))


def mint(sealed: Mapping[str, Any], now: datetime, overlap: timedelta | None) -> tuple[str, dict[str, Any]]:
    """A new token and the secrets that keep it. With `overlap` (a rotation), tokens minted
    before stay usable until `now + overlap` (or their own earlier end); without, they go."""
    kept = dict(sealed)
    kept.setdefault(PEPPER_KEY, secrets.token_hex(32))
    minted = scheme.mint(_pepper(kept))
    until = (now + overlap).isoformat() if overlap else None
    older = []
    for entry in kept.get(TOKENS_KEY, []):
        if overlap is None or overlap <= timedelta(0) or not usable(entry, now):
            continue
        ends = entry.get("expires_at")
        older.append({**entry, "expires_at": min(ends, until) if ends and until else until})
    kept[TOKENS_KEY] = [
        *older,
        {"key_id": minted.key_id, "digest": minted.digest, "created_at": now.isoformat(), "expires_at": None},
    ]
    return minted.token, kept


def usable(entry: Mapping[str, Any], now: datetime) -> bool:
    ends = entry.get("expires_at")
    return ends is None or now < datetime.fromisoformat(ends)


def verify(sealed: Mapping[str, Any], token: str, now: datetime) -> bool:
    """Whether `token` is one of this source's usable tokens (constant time per candidate)."""
    parts = scheme.split(token)
    if parts is None or PEPPER_KEY not in sealed:
        return False
    key_id, secret = parts
    pepper = _pepper(sealed)
    entry = next((e for e in sealed.get(TOKENS_KEY, []) if e["key_id"] == key_id), None)
    stored = scheme.StoredToken(0, key_id, entry["digest"], pepper.pepper_id, None, None) if entry else None
    ok = scheme.verify({pepper.pepper_id: pepper}, stored, secret)
    return ok and entry is not None and usable(entry, now)


def state(sealed: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What `source test` says of the tokens: how many work now, and until when the older ones do."""
    entries = [e for e in sealed.get(TOKENS_KEY, []) if usable(e, now)]
    ending = sorted(e["expires_at"] for e in entries if e.get("expires_at"))
    return {"usable_tokens": len(entries), "overlap_ends_at": ending[-1] if ending else None}
