"""`enlist lms notify set`'s key=value parsing: every key applies, an empty value unsets a
channel, and every kind of bad value is refused with a message naming it."""

from __future__ import annotations

import pytest

from enlist.lms.notify.alerts import KINDS, NotificationSettings
from enlist.lms.notify.operations import KEYS, NotificationSettingError, applied


def seal(text: str) -> str:
    return f"sealed({text})"


def test_every_key_applies_and_the_webhook_secret_is_stored_sealed() -> None:
    chosen = applied(
        NotificationSettings(),
        {
            "email": "ops@example.test",
            "webhook_url": "https://hooks.example.test/x",
            "webhook_secret": "s3",
            "quiet_minutes": "15",
            **dict.fromkeys(KINDS, "off"),
        },
        seal,
    )
    assert chosen == NotificationSettings(
        "ops@example.test", "https://hooks.example.test/x", "sealed(s3)", frozenset(KINDS), 15.0
    )
    assert not any(chosen.enabled(kind) for kind in KINDS)
    back_on = applied(chosen, {"email": "", "webhook_url": "", **dict.fromkeys(KINDS, "on")}, seal)
    assert (back_on.email, back_on.webhook_url, back_on.kinds_off) == (None, None, frozenset())
    assert set(KEYS) == {"email", "webhook_url", "webhook_secret", "quiet_minutes", *KINDS}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("email", "not-an-address"),
        ("webhook_url", "ftp://example.test/x"),
        ("quiet_minutes", "soon"),
        ("quiet_minutes", "-1"),
        ("quiet_minutes", "nan"),
        *((kind, "maybe") for kind in KINDS),
        ("no_such_key", "1"),
    ],
)
def test_a_bad_value_is_refused_naming_it(key: str, value: str) -> None:
    with pytest.raises(NotificationSettingError, match=key):
        applied(NotificationSettings(), {key: value}, seal)
