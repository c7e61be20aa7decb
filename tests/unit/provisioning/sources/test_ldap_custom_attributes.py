"""Custom LDAP attributes to directory extension attributes, the AD login fallback, and the
keys `source set` takes per kind (pure)."""

from __future__ import annotations

import pytest

from enlist.provisioning.sources.keys import KIND_KEYS, check_keys, valid_keys
from enlist.provisioning.sources.ldap import extensions
from enlist.provisioning.sources.ldap.mapping import user_attributes
from enlist.provisioning.sources.ldap.settings import settings_from_stored
from enlist.provisioning.sources.tables import KINDS

AD_DN = "CN=Ann,OU=Staff,DC=corp,DC=example,DC=test"


def test_a_custom_attribute_is_named_extension_and_an_entra_style_name_is_kept() -> None:
    assert extensions.directory_name("costType") == "extension_costType"
    assert extensions.directory_name("extension_9a1b_cost") == "extension_9a1b_cost"


@pytest.mark.parametrize("name", ["", "1st", "cost type", "a.b", "x" * 121, "é"])
def test_a_name_a_mapping_could_not_refer_to_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a usable name"):
        extensions.change({}, f"attributes.{name}", "employeeType")


@pytest.mark.parametrize("attribute", ["employee type", "a;binary", "-x", "1.", "(x)"])
def test_a_value_that_is_not_one_ldap_attribute_is_refused(attribute: str) -> None:
    with pytest.raises(ValueError, match="must name one LDAP attribute"):
        extensions.change({}, "attributes.x", attribute)


def test_set_adds_replaces_and_an_empty_value_removes() -> None:
    stored: dict[str, object] = {"attributes": {"extension_a": "employeeType"}}
    assert extensions.change(stored, "attributes.b", "2.5.4.11") == {
        "extension_a": "employeeType",
        "extension_b": "2.5.4.11",
    }
    assert extensions.change(stored, "attributes.a", "title") == {"extension_a": "title"}
    assert extensions.change(stored, "attributes.extension_a", "") == {}
    assert stored == {"attributes": {"extension_a": "employeeType"}}, "the stored settings are not changed"


def test_one_value_is_text_several_a_list_none_cleared_and_binary_base64() -> None:
    found = extensions.extension_values(
        {"employeetype": [b"Contractor"], "ou": [b"A", b"B"], "objectsid": [b"\xff\x01"]},
        (
            ("extension_a", "employeeType"),
            ("extension_b", "ou"),
            ("extension_c", "departmentNumber"),
            ("extension_d", "objectSid"),
        ),
    )
    assert found == {
        "extension_a": "Contractor",
        "extension_b": ["A", "B"],
        "extension_c": None,
        "extension_d": "/wE=",
    }


def test_a_read_user_carries_its_extension_attributes() -> None:
    attrs = user_attributes(
        "uid=ann,dc=x",
        {"uid": [b"ann"], "employeeType": [b"Staff"]},
        "id-1",
        enabled=True,
        base_dns=("dc=x",),
        extensions=(("extension_kind", "employeetype"),),
    )
    assert attrs["extension_kind"] == "Staff"


def test_stored_attributes_are_checked_when_the_settings_are_read() -> None:
    stored = {
        "url": "ldap://h",
        "bind_dn": "cn=a",
        "base_dn": "dc=x",
        "attributes": {"extension_k": "employeeType"},
    }
    assert settings_from_stored(stored, {}).attributes == (("extension_k", "employeeType"),)
    with pytest.raises(ValueError, match="LDAP attribute"):
        settings_from_stored({**stored, "attributes": {"k": "two words"}}, {})


@pytest.mark.parametrize(
    ("entry", "upn_domain", "login"),
    [
        ({"userPrincipalName": [b"ann@corp.example"], "mail": [b"a@x.test"]}, None, "ann@corp.example"),
        ({"mail": [b"a@x.test"], "sAMAccountName": [b"ann"]}, None, "a@x.test"),
        ({"sAMAccountName": [b"ann"]}, None, "ann@corp.example.test"),
        ({"sAMAccountName": [b"ann"]}, "example.com", "ann@example.com"),
        ({"uid": [b"ann"]}, None, "ann"),
    ],
)
def test_an_ad_account_without_upn_or_mail_logs_in_as_its_sam_account_name_at_the_domain(
    entry: dict[str, list[bytes]], upn_domain: str | None, login: str
) -> None:
    attrs = user_attributes(AD_DN, entry, "id", enabled=True, base_dns=(), upn_domain=upn_domain)
    assert attrs["userPrincipalName"] == login


def test_upn_domain_must_be_a_dns_domain() -> None:
    stored = {"url": "ldap://h", "bind_dn": "cn=a", "base_dn": "dc=x"}
    assert settings_from_stored({**stored, "upn_domain": "example.com"}, {}).upn_domain == "example.com"
    with pytest.raises(ValueError, match="upn_domain"):
        settings_from_stored({**stored, "upn_domain": "@example.com"}, {})


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_refuses_an_unknown_key_and_lists_its_valid_keys(kind: str) -> None:
    with pytest.raises(ValueError, match="unknown setting 'nonsense'") as refused:
        check_keys(kind, ["interval_minutes", "nonsense"])
    assert all(key in str(refused.value) for key in valid_keys(kind))
    check_keys(kind, valid_keys(kind)[:-1] if kind == "ldap" else valid_keys(kind))


def test_every_kind_has_its_keys_and_only_ldap_takes_custom_attributes() -> None:
    assert set(KIND_KEYS) == set(KINDS)
    check_keys("ldap", ["attributes.costType"])
    for kind in set(KINDS) - {"ldap"}:
        with pytest.raises(ValueError, match=r"attributes\.costType"):
            check_keys(kind, ["attributes.costType"])
    with pytest.raises(ValueError, match=r"unknown setting 'attributes\.'"):
        check_keys("ldap", ["attributes."])
