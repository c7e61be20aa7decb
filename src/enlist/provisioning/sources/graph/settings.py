"""What a Graph source is configured with (read by the framework from its stored settings).

Exactly one credential: a client secret, or a certificate (its private key and the certificate
uploaded to the app registration). The two base URLs default to Microsoft's global cloud; a
national cloud or the fake Graph of the tests is one setting away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GRAPH_URL = "https://graph.microsoft.com"
LOGIN_URL = "https://login.microsoftonline.com"


@dataclass(frozen=True, slots=True)
class Certificate:
    """A PEM private key (RSA) and the PEM certificate registered with the app."""

    private_key_pem: bytes
    certificate_pem: bytes

    def __repr__(self) -> str:  # never print the key
        return "Certificate(<private key hidden>)"


@dataclass(frozen=True, slots=True)
class GraphSettings:
    """A Graph source.

    - `scope_groups`: read only the members (transitive) of these group ids, and those groups
      with the groups nested in them; `scope_app_id`: read only the users and groups assigned
      to this enterprise application (its service principal's `appRoleAssignedTo`; members of
      an assigned group are direct members, as Entra's provisioning reads them). At most one.
    - `requests_per_second`: the most requests a second this source sends (0: no limit).
    - `max_retries`: retries of one request on 429/503/504 or a dropped connection;
      `max_retry_wait`: the longest wait (s) the reader accepts; a longer `Retry-After` stops
      the round (it is tried again on the next one).
    - `managers_by_batch`: in a full round, read managers with `$batch` of `/users/{id}/manager`
      instead of trusting `manager@delta` in the first delta round (graph-source.md §2.3).
    """

    tenant_id: str
    client_id: str
    client_secret: str | None = None
    certificate: Certificate | None = None
    graph_url: str = GRAPH_URL
    login_url: str = LOGIN_URL
    scope_groups: tuple[str, ...] = ()
    scope_app_id: str | None = None
    requests_per_second: float = 50.0
    max_retries: int = 5
    max_retry_wait: float = 120.0
    timeout: float = 30.0
    managers_by_batch: bool = False

    def __post_init__(self) -> None:
        if (self.client_secret is None) == (self.certificate is None):
            raise ValueError("a Graph source takes a client secret or a certificate, exactly one")
        if self.scope_groups and self.scope_app_id:
            raise ValueError("a Graph source is scoped by groups or by an application, not both")
        if self.max_retries < 0 or self.requests_per_second < 0:
            raise ValueError("max_retries and requests_per_second must not be negative")

    def __repr__(self) -> str:  # the secret is never printed
        secret = "<hidden>" if self.client_secret else None
        return (
            f"GraphSettings(tenant_id={self.tenant_id!r}, client_id={self.client_id!r}, "
            f"client_secret={secret})"
        )

    @property
    def graph(self) -> str:
        return self.graph_url.rstrip("/")

    @property
    def token_url(self) -> str:
        return f"{self.login_url.rstrip('/')}/{self.tenant_id}/oauth2/v2.0/token"


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\s*", re.DOTALL)


def certificate_from_pem(text: str) -> Certificate:
    """The certificate and its private key from one PEM document (what `--certificate FILE`
    stores): raises ValueError when either is missing."""
    blocks = {m.group(1): m.group(0).strip() + "\n" for m in _PEM_BLOCK.finditer(text)}
    key = next((v for k, v in blocks.items() if k.endswith("PRIVATE KEY")), None)
    cert = blocks.get("CERTIFICATE")
    if key is None or cert is None:
        raise ValueError("the certificate file must hold the PEM certificate and its PEM private key")
    return Certificate(key.encode(), cert.encode())


def _groups(value: Any) -> tuple[str, ...]:
    parts = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(p).strip() for p in parts if str(p).strip())


def _flag(value: Any) -> bool:
    return value.strip().casefold() in {"true", "on", "yes", "1"} if isinstance(value, str) else bool(value)


def settings_from_stored(stored: Mapping[str, Any], secrets: Mapping[str, str]) -> GraphSettings:
    """A Graph source's settings from what `source add --kind graph` and `source set` store:
    the plain keys from its settings document (values `source set` kept as text are converted),
    the client secret or the certificate only from its opened, sealed secrets."""
    certificate = secrets.get("certificate")
    optional: dict[str, Any] = {}
    for key, convert in (
        ("requests_per_second", float),
        ("max_retries", int),
        ("max_retry_wait", float),
        ("timeout", float),
    ):
        if stored.get(key) not in (None, ""):
            try:
                optional[key] = convert(stored[key])
            except ValueError:
                raise ValueError(f"the Graph setting {key} must be a number, not {stored[key]!r}") from None
    if "managers_by_batch" in stored:
        optional["managers_by_batch"] = _flag(stored["managers_by_batch"])
    return GraphSettings(
        tenant_id=str(stored.get("tenant_id") or ""),
        client_id=str(stored.get("client_id") or ""),
        client_secret=secrets.get("client_secret") or None,
        certificate=certificate_from_pem(certificate) if certificate else None,
        graph_url=str(stored.get("graph_url") or GRAPH_URL),
        login_url=str(stored.get("login_url") or LOGIN_URL),
        scope_groups=_groups(stored.get("scope_groups")),
        scope_app_id=str(stored.get("scope_app_id") or "") or None,
        **optional,
    )
