"""Which SCIM client made a request, from its User-Agent: the name an admin knows.

`client_of` is pure: the sync log stores its answer with each entry (migration 0009), so the Sync
log page and its exports say "Okta" or "enlist provisioning" instead of claiming every change
came from Entra ID. A client this table does not know is named by the first product token of its
User-Agent (RFC 9110 §10.1.5: `product/version`), bounded, so an admin still sees *something* to
search for; a request without a User-Agent is "unknown".
"""

from __future__ import annotations

import re

MAX_CLIENT_LENGTH = 64  # the sync_log.client column
UNKNOWN = "unknown"

# (pattern, name) in order: the first that matches names the client. Patterns match the product
# tokens clients send (case-insensitive), not free text elsewhere in the header, so a browser's
# "Mozilla/5.0 … Edge" is not taken for Microsoft's provisioning service.
KNOWN_CLIENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^enlist-provisioning\b", re.IGNORECASE), "enlist provisioning"),
    (re.compile(r"^okta\b", re.IGNORECASE), "Okta"),
    (re.compile(r"^authentik\b", re.IGNORECASE), "authentik"),
    (re.compile(r"^onelogin\b", re.IGNORECASE), "OneLogin"),
    # Microsoft's provisioning service: "Microsoft.Identity…", "AzureAD…", "Azure AD …", "Entra…".
    (re.compile(r"^(microsoft\b|azure[ -]?ad\b|aad\b|entra\b)", re.IGNORECASE), "Entra ID"),
)
_PRODUCT = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?")


def client_of(user_agent: str | None) -> str:
    """The client named by a User-Agent header: a known product's name, else the header's first
    product token (at most `MAX_CLIENT_LENGTH` characters), else `UNKNOWN`."""
    text = (user_agent or "").strip()
    for pattern, name in KNOWN_CLIENTS:
        if pattern.search(text):
            return name
    token = _PRODUCT.match(text)
    if token is None:
        return UNKNOWN
    return token.group(0)[:MAX_CLIENT_LENGTH]
