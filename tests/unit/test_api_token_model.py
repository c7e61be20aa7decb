"""What an API token allows, pure: scopes, refusals in their order, expiry and name parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from enlist.api_tokens.model import ApiToken, TokenError, allows, parse_expiry, parse_name

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def token(**changes: object) -> ApiToken:
    base: dict[str, object] = {
        "id": 1,
        "name": "ci",
        "scope": "read",
        "created_at": NOW - timedelta(days=1),
        "expires_at": None,
        "revoked_at": None,
        "last_used_at": None,
    }
    return ApiToken(**{**base, **changes})  # type: ignore[arg-type]


def test_a_write_token_also_reads_and_a_read_token_only_reads() -> None:
    assert allows("write", "read")
    assert allows("write", "write")
    assert allows("read", "read")
    assert not allows("read", "write")


def test_revoked_wins_over_expired_which_wins_over_scope() -> None:
    everything_wrong = token(revoked_at=NOW, expires_at=NOW - timedelta(hours=1))
    assert everything_wrong.refusal_at(NOW, "write") == "revoked"
    assert token(expires_at=NOW).refusal_at(NOW, "write") == "expired"  # the moment itself is past
    assert token().refusal_at(NOW, "write") == "scope"
    assert token(expires_at=NOW + timedelta(seconds=1)).refusal_at(NOW, "read") is None


def test_use_is_noted_at_most_once_a_minute() -> None:
    assert token().needs_touch(NOW)
    assert not token(last_used_at=NOW - timedelta(seconds=59)).needs_touch(NOW)
    assert token(last_used_at=NOW - timedelta(seconds=60)).needs_touch(NOW)


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("12h", timedelta(hours=12)),
        ("90d", timedelta(days=90)),
        ("4w", timedelta(weeks=4)),
        (" 1D ", timedelta(days=1)),
    ],
)
def test_an_expiry_is_hours_days_or_weeks_from_now(text: str, after: timedelta) -> None:
    assert parse_expiry(text, NOW) == NOW + after


@pytest.mark.parametrize("text", [None, "", "never"])
def test_no_expiry_means_never(text: str | None) -> None:
    assert parse_expiry(text, NOW) is None


@pytest.mark.parametrize("text", ["soon", "0d", "-1d", "90", "d", "1y", "999999d"])
def test_anything_else_is_not_an_expiry(text: str) -> None:
    with pytest.raises(TokenError, match="not an expiry"):
        parse_expiry(text, NOW)


@pytest.mark.parametrize("text", ["", "-ci", "a b", "ci/x", "x" * 65, "ada@contoso.com"])
def test_a_name_is_short_and_plain(text: str) -> None:
    with pytest.raises(TokenError, match="not a token name"):
        parse_name(text)
