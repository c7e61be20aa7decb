"""A Graph source's reader settings from what `source add` and `source set` store: every key
`source set` keeps as text is converted, and the credential comes only from the secrets."""

from __future__ import annotations

import pytest

from enlist.provisioning.sources.graph.settings import (
    GRAPH_URL,
    LOGIN_URL,
    GraphSettings,
    certificate_from_pem,
    settings_from_stored,
)

BASE = {"tenant_id": "T", "client_id": "C"}
KEY = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"


def test_what_source_add_stores_gives_microsofts_endpoints_and_the_sealed_secret() -> None:
    built = settings_from_stored({**BASE, "graph_url": "", "login_url": ""}, {"client_secret": "s3cr3t"})
    assert (built.graph_url, built.login_url, built.client_secret) == (GRAPH_URL, LOGIN_URL, "s3cr3t")
    assert "s3cr3t" not in repr(built)


def test_every_key_source_set_stores_as_text_is_converted() -> None:
    stored = {
        **BASE,
        "scope_groups": "g1, g2,",
        "requests_per_second": "2.5",
        "max_retries": "3",
        "max_retry_wait": "10",
        "timeout": "5",
        "managers_by_batch": "true",
    }
    built = settings_from_stored(stored, {"client_secret": "s"})
    assert built == GraphSettings(
        "T",
        "C",
        client_secret="s",
        scope_groups=("g1", "g2"),
        requests_per_second=2.5,
        max_retries=3,
        max_retry_wait=10.0,
        timeout=5.0,
        managers_by_batch=True,
    )


def test_a_secret_in_the_plain_settings_is_not_used() -> None:
    with pytest.raises(ValueError, match="client secret or a certificate"):
        settings_from_stored({**BASE, "client_secret": "plain"}, {})


@pytest.mark.parametrize("order", [KEY + CERT, CERT + KEY])
def test_a_certificate_file_is_split_into_its_certificate_and_key(order: str) -> None:
    built = settings_from_stored(BASE, {"certificate": order})
    assert built.certificate == certificate_from_pem(order)
    assert built.certificate is not None
    assert (built.certificate.private_key_pem.decode(), built.certificate.certificate_pem.decode()) == (
        KEY,
        CERT,
    )


def test_a_certificate_file_without_its_key_is_refused() -> None:
    with pytest.raises(ValueError, match="private key"):
        settings_from_stored(BASE, {"certificate": CERT})


@pytest.mark.parametrize("key", ["requests_per_second", "max_retries", "max_retry_wait", "timeout"])
def test_a_numeric_setting_that_is_not_a_number_is_named(key: str) -> None:
    with pytest.raises(ValueError, match=f"{key} must be a number, not 'abc'"):
        settings_from_stored({**BASE, key: "abc"}, {"client_secret": "s3cr3t"})
