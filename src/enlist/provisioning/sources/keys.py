"""Which keys `source set` takes for each kind of source (the CLI, the API and the Sources page
all go through `operations.configure`, which checks them here first).

A key no reader of the kind reads would be stored and silently ignored (a typo such as
`page_sise=50` would look saved); so an unknown key is refused, with the kind's valid keys, and
nothing is changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from enlist.provisioning.sources.ldap.extensions import KEY_PREFIX
from enlist.provisioning.sources.ldap.settings import KEYS as LDAP_KEYS

COMMON_KEYS = ("interval_minutes", "deletion_threshold", "start_cycles_after_read", "filters")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "file": ("path",),
    "graph": (
        "tenant_id",
        "client_id",
        "client_secret",
        "certificate",
        "graph_url",
        "login_url",
        "scope_groups",
        "scope_app_id",
        "requests_per_second",
        "max_retries",
        "max_retry_wait",
        "timeout",
        "managers_by_batch",
    ),
    "scim-push": ("bulk_max_operations", "bulk_max_payload_bytes"),
    "ldap": (*LDAP_KEYS, "bind_password"),
}
PATTERN_KEYS = {"ldap": (KEY_PREFIX,)}
"""Key prefixes a kind takes with any name after them (`attributes.NAME`)."""


def valid_keys(kind: str) -> list[str]:
    """The keys a source of `kind` takes, as the error message lists them."""
    patterns = [f"{prefix}NAME" for prefix in PATTERN_KEYS.get(kind, ())]
    return [*COMMON_KEYS, *KIND_KEYS.get(kind, ()), *patterns]


def check_keys(kind: str, keys: Iterable[str]) -> None:
    """Raise ValueError naming every unknown key and listing the valid ones."""
    known = {*COMMON_KEYS, *KIND_KEYS.get(kind, ())}
    prefixes = PATTERN_KEYS.get(kind, ())
    unknown = [k for k in keys if k not in known and not (k.startswith(prefixes) and k not in prefixes)]
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        msg = f"unknown setting {names}: a source of kind {kind} takes {', '.join(valid_keys(kind))}"
        raise ValueError(msg)
