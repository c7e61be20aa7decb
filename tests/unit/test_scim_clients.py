"""The sync log names the client behind each change from its User-Agent, as sent by the real
clients (docs/reference/scim-conformance.md and the shared Okta reference quote them)."""

from __future__ import annotations

import pytest

from enlist.lms.domain.clients import MAX_CLIENT_LENGTH, UNKNOWN, client_of


@pytest.mark.parametrize(
    ("user_agent", "client"),
    [
        ("Okta SCIM Client 1.0.0", "Okta"),  # Okta's documented header (okta-and-ldap.md)
        ("authentik@2024.8.3", "authentik"),  # authentik's outgoing requests: product@version
        ("authentik@2025.2.1 (build abc123)", "authentik"),
        ("OneLogin SCIM Client", "OneLogin"),
        ("onelogin-provisioning/1.0", "OneLogin"),
        ("Microsoft.Identity.Provisioning/1.0", "Entra ID"),
        ("Azure AD SCIM Provisioning", "Entra ID"),
        ("AzureAD-SCIM/1.0", "Entra ID"),
        ("enlist-provisioning", "enlist provisioning"),
        ("enlist-provisioning/0.9 (+cycle 42)", "enlist provisioning"),
        ("python-httpx2/2.16.2", "python-httpx2/2.16.2"),  # unknown: its first product token
        ("curl/8.5.0", "curl/8.5.0"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Edg/120.0", "Mozilla/5.0"),
        ("", UNKNOWN),
        (None, UNKNOWN),
        ("   ", UNKNOWN),
        ("(no product)", UNKNOWN),
    ],
)
def test_the_client_is_named_from_its_user_agent(user_agent: str | None, client: str) -> None:
    assert client_of(user_agent) == client


def test_an_unknown_product_token_is_bounded_to_the_column() -> None:
    assert len(client_of("x" * 5000)) == MAX_CLIENT_LENGTH
