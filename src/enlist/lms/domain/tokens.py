"""Secret tokens: minted per tenant, shown once, stored only as an HMAC-SHA256 digest.

The code is `enlist.web.tokens`, shared with the API tokens of both services; the portal's
modules name it here.
"""

from enlist.web.tokens import (
    KEY_ID_BYTES,
    KEY_ID_LENGTH,
    SECRET_BYTES,
    TOKEN_PREFIX,
    MintedToken,
    Pepper,
    StoredToken,
    digest,
    mint,
    split,
    verify,
)

__all__ = [
    "KEY_ID_BYTES",
    "KEY_ID_LENGTH",
    "SECRET_BYTES",
    "TOKEN_PREFIX",
    "MintedToken",
    "Pepper",
    "StoredToken",
    "digest",
    "mint",
    "split",
    "verify",
]
