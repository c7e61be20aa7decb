"""The fake's token endpoint (graph-source.md §1.2-1.4, §8.2 A1): secrets and certificate
assertions checked as Entra checks them, errors in Entra's shapes."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.graph.tenant import Tenant

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Issued:
    client_id: str
    permissions: frozenset[str]
    expires_at: float


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _thumbprint(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    return base64.urlsafe_b64encode(cert.fingerprint(algorithm)).rstrip(b"=").decode()


def aad_error(status: int, error: str, code: int, description: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {secrets.token_hex(8)}",
        "error_codes": [code],
        "timestamp": "2026-12-07 00:00:00Z",
        "trace_id": secrets.token_hex(16),
        "correlation_id": secrets.token_hex(16),
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


def verify_assertion(
    assertion: str, certificate_pem: bytes, *, audience: str, client_id: str, now: float
) -> str | None:
    """None when the assertion is good; else what is wrong with it."""
    try:
        head_b64, claims_b64, sig_b64 = assertion.split(".")
        header = json.loads(_b64decode(head_b64))
        claims = json.loads(_b64decode(claims_b64))
        signature = _b64decode(sig_b64)
    except ValueError:
        return "malformed assertion"
    cert = x509.load_pem_x509_certificate(certificate_pem)
    if header.get("x5t#S256") not in {None, _thumbprint(cert, hashes.SHA256())}:
        return "unknown certificate (x5t#S256)"
    if header.get("x5t") not in {None, _thumbprint(cert, hashes.SHA1())}:
        return "unknown certificate (x5t)"
    if "x5t" not in header and "x5t#S256" not in header:
        return "no certificate thumbprint"
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    signed = f"{head_b64}.{claims_b64}".encode()
    try:
        if header.get("alg") == "RS256":
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        elif header.get("alg") == "PS256":
            key.verify(
                signature,
                signed,
                padding.PSS(padding.MGF1(hashes.SHA256()), hashes.SHA256.digest_size),
                hashes.SHA256(),
            )
        else:
            return f"unsupported alg {header.get('alg')}"
    except InvalidSignature:
        return "signature does not verify"
    if claims.get("aud") != audience:
        return f"wrong aud {claims.get('aud')!r}"
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return "iss/sub must be the client id"
    if not claims.get("jti"):
        return "no jti"
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < now:
        return "expired assertion"
    if claims.get("nbf", 0) > now + 300 or claims["exp"] - claims.get("nbf", claims.get("iat", now)) > 600:
        return "assertion lifetime out of bounds"
    return None


class TokenIssuer:
    def __init__(self, tenant: Tenant, *, expires_in: int = 3599) -> None:
        self.tenant = tenant
        self.expires_in = expires_in
        self.issued: dict[str, Issued] = {}

    def revoke_all(self) -> None:
        self.issued.clear()

    def token(
        self, form: dict[str, str], basic: tuple[str, str] | None, audience: str
    ) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "client_credentials":
            return aad_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        client_id = basic[0] if basic else form.get("client_id", "")
        app = self.tenant.apps.get(client_id)
        if app is None:
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found.",
            )
        if form.get("scope") != GRAPH_SCOPE:
            return aad_error(
                400, "invalid_scope", 70011, f"The provided value for scope {form.get('scope')} is not valid."
            )
        secret = basic[1] if basic else form.get("client_secret")
        if secret is not None:
            if app.secret is None or not secrets.compare_digest(secret, app.secret):
                return aad_error(
                    401, "invalid_client", 7000215, f"Invalid client secret provided for app '{client_id}'."
                )
        elif form.get("client_assertion_type") == ASSERTION_TYPE and "client_assertion" in form:
            if app.certificate_pem is None:
                return aad_error(
                    401, "invalid_client", 700027, "Client assertion failed signature validation."
                )
            wrong = verify_assertion(
                form["client_assertion"],
                app.certificate_pem,
                audience=audience,
                client_id=client_id,
                now=self.tenant.now(),
            )
            if wrong is not None:
                return aad_error(401, "invalid_client", 700027, f"Client assertion failed: {wrong}.")
        else:
            return aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain client_assertion or client_secret.",
            )
        access = secrets.token_urlsafe(32)
        self.issued[access] = Issued(client_id, app.permissions, self.tenant.now() + self.expires_in)
        return 200, {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": access,
        }

    def holder(self, token: str) -> Issued | None:
        issued = self.issued.get(token)
        if issued is None or issued.expires_at <= self.tenant.now():
            return None
        return issued


def sha1_thumbprint_hex(certificate_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(certificate_pem)
    return cert.fingerprint(hashes.SHA1()).hex()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
