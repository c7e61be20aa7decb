"""App-only tokens: the client-credentials flow with a client secret or a certificate
(graph-source.md §1.2-1.4), cached until near expiry.

A small client rather than MSAL (ADR 0019): MSAL is synchronous, refuses any authority that is
not `https://` (so it cannot be pointed at a loopback fake or a plain-HTTP test double), and
brings `requests` and PyJWT; the flow itself is one form POST and, for a certificate, one
signed JWT, which the fake Graph verifies against the registered certificate.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx2
import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from enlist.provisioning.sources.graph.errors import CredentialsError, UnreachableError
from enlist.provisioning.sources.graph.settings import Certificate, GraphSettings

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# MSAL's rule: a cached token is used while more than 5 minutes remain (§1.5).
REFRESH_MARGIN = 300.0
ASSERTION_LIFETIME = 300


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def client_assertion(certificate: Certificate, *, client_id: str, audience: str, now: float) -> str:
    """A PS256 JWT with `x5t#S256`, as Entra's certificate credentials page describes (§1.3)."""
    cert = x509.load_pem_x509_certificate(certificate.certificate_pem)
    key = serialization.load_pem_private_key(certificate.private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialsError("the certificate's private key must be an RSA key")
    header = {"alg": "PS256", "typ": "JWT", "x5t#S256": _b64url(cert.fingerprint(hashes.SHA256()))}
    issued = int(now)
    claims = {
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": str(uuid.uuid4()),
        "nbf": issued,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
    }
    signing_input = f"{_b64url(orjson.dumps(header))}.{_b64url(orjson.dumps(claims))}".encode()
    signature = key.sign(
        signing_input, padding.PSS(padding.MGF1(hashes.SHA256()), hashes.SHA256.digest_size), hashes.SHA256()
    )
    return f"{signing_input.decode()}.{_b64url(signature)}"


def describe_token_error(status: int, body: Any) -> str:
    """`AADSTS7000215: Invalid client secret provided…`: the first line of Entra's description."""
    if isinstance(body, dict) and body.get("error"):
        description = str(body.get("error_description") or "").split("\r\n", 1)[0].split("\n", 1)[0]
        return f"{body['error']} ({status}): {description}".rstrip(": ")
    return f"HTTP {status}"


class TokenProvider:
    """One access token for Graph, shared by every request of a reader, fetched again when
    fewer than 5 minutes remain (or half its life, for short-lived tokens) or after `invalidate`."""

    def __init__(self, settings: GraphSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self.fetched = 0

    def invalidate(self) -> None:
        self._token = None

    async def token(self, http: httpx2.AsyncClient) -> str:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        settings = self._settings
        form = {"grant_type": "client_credentials", "client_id": settings.client_id, "scope": GRAPH_SCOPE}
        if settings.certificate is not None:
            form["client_assertion_type"] = ASSERTION_TYPE
            form["client_assertion"] = client_assertion(
                settings.certificate,
                client_id=settings.client_id,
                audience=settings.token_url,
                now=time.time(),
            )
        else:
            assert settings.client_secret is not None
            form["client_secret"] = settings.client_secret
        try:
            response = await http.post(settings.token_url, data=form, headers={"Accept": "application/json"})
        except httpx2.TransportError as error:
            raise UnreachableError(
                f"cannot reach the login endpoint {settings.token_url}: {error!r}"
            ) from error
        self.fetched += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            what = describe_token_error(response.status_code, body)
            if response.status_code >= 500:
                raise UnreachableError(f"the login endpoint {settings.token_url} failed: {what}")
            raise CredentialsError(f"the login endpoint refused the app's credential: {what}")
        lifetime = float(body.get("expires_in", 3599))
        self._token = str(body["access_token"])
        self._refresh_at = self._clock() + lifetime - min(REFRESH_MARGIN, lifetime / 2)
        return self._token
