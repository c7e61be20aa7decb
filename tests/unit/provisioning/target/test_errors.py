"""Specification of how a target's answers and transport failures map to the error taxonomy.

Codes are Entra's (entra-scim.md §4.3, §6.3); the subclass says what the engine does next.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import pytest

from enlist.provisioning.target.errors import (
    MULTIPLE_ENTRIES,
    SERVICE_INCOMPATIBLE,
    ConflictError,
    CredentialsError,
    IncompatibleError,
    NotFoundError,
    RequestRejectedError,
    TargetError,
    TransientError,
    classify,
    incompatible,
    parse_retry_after,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def answer(status: int, detail: str | None = None, **headers: str) -> httpx2.Response:
    if detail is None:
        return httpx2.Response(status, headers=headers)
    body = {"schemas": [SCIM_ERROR], "status": str(status), "detail": detail}
    return httpx2.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (400, RequestRejectedError, "BadRequest"),
        (401, CredentialsError, "Unauthorized"),
        (403, CredentialsError, "InsufficientRights"),
        (404, NotFoundError, "NotFound"),
        (405, RequestRejectedError, "MethodNotAllowed"),
        (408, TransientError, "Timeout"),
        (409, ConflictError, "EntryConflict"),
        (412, RequestRejectedError, "BadRequest"),
        (413, RequestRejectedError, "BadRequest"),
        (422, RequestRejectedError, "UnprocessableEntity"),
        (429, TransientError, "TooManyRequests"),
        (500, TransientError, "InternalServerError"),
        (501, RequestRejectedError, "NotImplemented"),
        (502, TransientError, "InternalServerError"),
        (503, TransientError, "InternalServerError"),
        (504, TransientError, "Timeout"),
        (302, IncompatibleError, SERVICE_INCOMPATIBLE),
    ],
)
def test_each_status_maps_to_its_kind_and_entra_code(status: int, kind: type[TargetError], code: str) -> None:
    error = classify(answer(status), "PATCH /Users/1", now=NOW)
    assert type(error) is kind
    assert error.code == code
    assert error.status == status
    assert error.reason.startswith(f"PATCH /Users/1 answered {status}")
    assert error.recommendation


def test_the_reason_carries_the_targets_detail_and_scim_type() -> None:
    body = {
        "schemas": [SCIM_ERROR],
        "status": "409",
        "scimType": "uniqueness",
        "detail": "userName jdoe is taken",
    }
    error = classify(httpx2.Response(409, json=body), "POST /Users", now=NOW)
    assert error.reason == "POST /Users answered 409 Conflict: userName jdoe is taken (scimType uniqueness)"
    assert "already holds the same unique value" in error.recommendation
    assert str(error) == f"EntryConflict: {error.reason}"


def test_a_body_that_is_not_a_scim_error_is_named_by_media_type_and_size_never_quoted() -> None:
    page = "<html>\n  <body>internal admin console " + "Bad gateway " * 100 + "</body></html>"
    error = classify(
        httpx2.Response(502, text=page, headers={"content-type": "text/html; charset=utf-8"}),
        "GET /Users",
        now=NOW,
    )
    assert error.reason == (
        f"GET /Users answered 502 Bad Gateway: text/html, {len(page.encode())} bytes, not a SCIM response"
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"detail": "internal-canary", "message": "internal-canary"}'),
        ("application/json", b'{"schemas": ["urn:example:other"], "detail": "internal-canary"}'),
        ("text/plain", b"internal-canary"),
        ("application/xml", b"<error>internal-canary</error>"),
        ("", b"internal-canary"),
    ],
)
def test_no_part_of_a_body_that_is_not_scim_reaches_the_reason(content_type: str, body: bytes) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for status in (400, 401, 403, 404, 409, 422, 500, 502):
        error = classify(httpx2.Response(status, content=body, headers=headers), "GET /Users", now=NOW)
        assert "internal-canary" not in error.reason, status
        assert error.reason.endswith("not a SCIM response"), status


def test_a_scim_error_detail_is_quoted_clipped_and_on_one_line() -> None:
    detail = "line one\n  line two " + "long detail " * 100
    error = classify(answer(502, detail), "GET /Users", now=NOW)
    assert "\n" not in error.reason
    assert error.reason.startswith("GET /Users answered 502 Bad Gateway: line one line two long detail")
    assert error.reason.endswith("…")
    assert len(error.reason) < 400


def test_a_detail_sent_as_application_scim_json_is_quoted_without_the_error_schema() -> None:
    body = b'{"detail": "the seat limit is reached"}'
    response = httpx2.Response(403, content=body, headers={"content-type": "application/scim+json"})
    error = classify(response, "POST /Users", now=NOW)
    assert error.reason == "POST /Users answered 403 Forbidden: the seat limit is reached"


def test_a_redirects_location_is_clipped() -> None:
    response = httpx2.Response(302, headers={"location": "https://login.example/" + "a" * 1000})
    error = classify(response, "GET /Users", now=NOW)
    assert len(error.reason) < 400


def test_the_secret_token_is_removed_from_anything_the_target_says() -> None:
    secret = "s3cr3t-token-value"
    echoed = answer(400, f"bad header Authorization: Bearer {secret}")
    error = classify(echoed, "PATCH /Users/1", secret=secret, now=NOW)
    assert secret not in error.reason
    assert secret not in str(error)
    assert "[secret token]" in error.reason


def test_the_secret_is_removed_before_clipping_so_no_part_of_it_is_left() -> None:
    secret = "x" * 40
    text = "y" * 280 + secret
    error = classify(answer(400, text), "GET /Users", secret=secret, now=NOW)
    assert "xxxxxxxx" not in error.reason


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_read(status: int) -> None:
    error = classify(answer(status, "slow down", **{"Retry-After": "7"}), "GET /Users", now=NOW)
    assert isinstance(error, TransientError)
    assert error.retry_after == 7.0


def test_retry_after_as_an_http_date_is_read_against_now() -> None:
    when = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    error = classify(answer(429, None, **{"Retry-After": when}), "GET /Users", now=NOW)
    assert error.retry_after == 90.0


def test_no_retry_after_leaves_it_unset() -> None:
    assert classify(answer(429), "GET /Users", now=NOW).retry_after is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("  12 ", 12.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Sun, 01 Mar 2026 12:02:00 GMT", 120.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        ("inf", None),
        ("nan", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_a_timeout_is_transient_with_code_timeout() -> None:
    for exc in (TimeoutError(), httpx2.ReadTimeout("read timed out")):
        error = classify(exc, "GET /Users/1", timeout_s=30)
        assert isinstance(error, TransientError)
        assert error.code == "Timeout"
        assert error.status is None
        assert error.reason == "GET /Users/1: the application did not answer within 30 s"


def test_a_refused_connection_is_a_transient_protocol_error() -> None:
    error = classify(httpx2.ConnectError("[Errno 111] Connection refused"), "GET /Users")
    assert isinstance(error, TransientError)
    assert error.code == "WebExceptionProtocolError"
    assert error.reason == "GET /Users: could not connect ([Errno 111] Connection refused)"
    assert "Tenant URL" in error.recommendation


def test_a_broken_answer_is_a_transient_protocol_error() -> None:
    error = classify(httpx2.RemoteProtocolError("peer closed connection"), "PATCH /Groups/g")
    assert isinstance(error, TransientError)
    assert error.reason == "PATCH /Groups/g: the connection failed (peer closed connection)"


def test_incompatible_answers_say_what_was_wrong_and_what_to_check() -> None:
    error = incompatible("POST /Users", "the created resource has no id")
    assert error.code == SERVICE_INCOMPATIBLE
    assert error.reason == "POST /Users: the created resource has no id"
    assert "SCIM base URL" in error.recommendation
    ignored = incompatible(
        "GET /Users", "a filter returned a resource it does not match", code=MULTIPLE_ENTRIES
    )
    assert ignored.code == MULTIPLE_ENTRIES
    assert "filtering" in ignored.recommendation


def test_the_engine_can_raise_its_own_target_errors() -> None:
    """The engine builds failures of its own (`DuplicateTargetEntries`) with the same fields."""
    error = TargetError("DuplicateTargetEntries", "2 target users have userName 'x'", "Merge them.")
    assert (error.status, error.retry_after) == (None, None)
    assert (
        repr(error)
        == "TargetError('DuplicateTargetEntries', status=None, reason=\"2 target users have userName 'x'\")"
    )
