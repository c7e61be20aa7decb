"""Test connection: what the admin reads when the probe passes or fails (entra-scim.md §1).

The probe is Entra's: `GET {Tenant URL}/Users?filter=<matching attribute> eq "<random uuid4>"`
must answer 200 with an empty ListResponse. `ConnectionCheck` is its outcome; the functions here
turn the client's `TargetError`s into sentences saying what to check. Pure: no I/O.

What a target answered is quoted only when it is SCIM (a SCIM Error's `detail`); any other answer
is named by its status and media type (`errors._detail`), so Test connection cannot be used to
read an internal service's pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from enlist.provisioning.target.errors import (
    MULTIPLE_ENTRIES,
    SERVICE_INCOMPATIBLE,
    CredentialsError,
    NetworkPolicyError,
    NotFoundError,
    TargetError,
    TransientError,
)

__all__ = ["UNREACHABLE", "ConnectionCheck", "endpoint_of", "failed_check", "passed_check", "same_endpoint"]

# Entra's code when a Test connection request could not be sent (entra-scim.md §1.2).
UNREACHABLE = "CredentialValidationUnavailable"


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The outcome of Test connection: `code` is None when `ok`, else Entra's error code."""

    ok: bool
    code: str | None
    message: str


_DEFAULT_PORTS = {"http": 80, "https": 443}


def endpoint_of(tenant_url: str) -> tuple[str, str, int, str]:
    """Where a Tenant URL sends the Secret token: (scheme, host, port, path), normalised.

    Scheme and host are compared without case (the host IDNA-encoded), the port filled in from
    the scheme, the path as written (percent-encoded) without trailing slashes. The query string
    (`?aadOptscim062020`), a fragment and user information do not move the token elsewhere and are
    left out. Raises ValueError for a URL that is not absolute http(s).
    """
    try:
        url = httpx2.URL(tenant_url.strip())
    except (httpx2.InvalidURL, TypeError):
        raise ValueError("the Tenant URL must be an absolute http:// or https:// URL") from None
    if url.scheme not in _DEFAULT_PORTS or not url.host:
        raise ValueError("the Tenant URL must be an absolute http:// or https:// URL")
    path = url.raw_path.split(b"?", 1)[0].decode("ascii").rstrip("/")
    return (url.scheme, url.host.lower(), url.port or _DEFAULT_PORTS[url.scheme], path)


def same_endpoint(saved: str, typed: str) -> bool:
    """`typed` sends the token where `saved` does (`endpoint_of` both); a URL that cannot be read
    is never the same."""
    try:
        return endpoint_of(saved) == endpoint_of(typed)
    except ValueError:
        return False


def passed_check(tenant_url: str) -> ConnectionCheck:
    return ConnectionCheck(
        ok=True,
        code=None,
        message=f"{tenant_url} answered the query for a user that does not exist with an empty list.",
    )


def failed_check(error: TargetError, base_url: str, endpoint: str) -> ConnectionCheck:
    """The admin's reading of `error` from the probe of `base_url` + `endpoint` (`/Users`, `/Groups`)."""
    where = f"{base_url.rstrip('/')}{endpoint}"
    if isinstance(error, NetworkPolicyError):
        message = f"{where} was not contacted ({error.reason}). {error.recommendation}"
    elif isinstance(error, CredentialsError) and error.status == 401:
        message = (
            f"{where} refused the Secret token (401 Unauthorized). Check that the token is the one "
            "the application issued for this Tenant URL, pasted whole, and not revoked or expired."
        )
    elif isinstance(error, CredentialsError):
        message = (
            f"{where} accepted the Secret token but refused to list {endpoint.strip('/').lower()} "
            "(403 Forbidden). Check what the token, or the account it belongs to, is allowed to do."
        )
    elif isinstance(error, NotFoundError):
        message = (
            f"{where} is not a SCIM endpoint, or answered 404 instead of 200 with an empty list for a "
            "query that matches nothing. Check the Tenant URL is the SCIM base URL (the part before "
            "/Users), and that the application answers such a query with an empty ListResponse."
        )
    elif isinstance(error, TransientError) and error.status is None:
        return ConnectionCheck(
            ok=False,
            code=UNREACHABLE,
            message=(
                f"Could not reach {where} ({error.reason}). Check the Tenant URL (scheme, "
                "host name, port) and that this server can reach it (DNS, firewall, proxy, TLS certificate)."
            ),
        )
    elif error.code == MULTIPLE_ENTRIES:
        message = (
            f"{where} returned resources for a filter on a random id that nothing can match: it ignores "
            "the filter. The application must support `eq` filters on the matching attribute."
        )
    elif error.code == SERVICE_INCOMPATIBLE:
        message = (
            f"{where} did not answer with a SCIM ListResponse ({error.reason}). Check the "
            "Tenant URL is the application's SCIM base URL, not a web page or a login screen."
        )
    else:
        message = f"Test connection to {where} failed: {error.reason}. {error.recommendation}"
    return ConnectionCheck(ok=False, code=error.code, message=message)
