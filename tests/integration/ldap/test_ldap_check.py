"""`source test` for an LDAP source: it binds, reads the root DSE and a page, and names the
step that failed: DNS, TCP, TLS, bind, insufficient access, bad base DN, filter syntax."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from enlist.provisioning.sources.ldap.connection import guess_dialect
from enlist.provisioning.sources.ldap.mapping import ou_path
from enlist.provisioning.sources.ldap.reader import LdapReader
from enlist.provisioning.sources.ldap.settings import LdapSettings, settings_from_stored
from tests.integration.ldap.helpers import group, person, reader_settings
from tests.ldap_servers.slapd import LIMITED_DN, READER_PASSWORD, MadeCA, Slapd, free_port


async def test_a_reachable_source_says_what_it_found_and_the_dialect_it_guessed(
    slapd: Slapd, branch: str
) -> None:
    conn = slapd.admin()
    person(conn, branch, "ann")
    group(conn, branch, "staff", [f"uid=ann,ou=people,{branch}"])
    check = await LdapReader(reader_settings(slapd, branch)).check()
    assert check.ok, check.message
    assert check.details["dialect"] == "openldap"
    assert check.details["guessed_dialect"] == "openldap"
    assert check.details["delta"] == "syncrepl"
    assert (check.details["users_in_first_page"], check.details["groups_in_first_page"]) == (1, 1)
    assert "dialect openldap (guessed from the root DSE)" in check.message


def _failures(slapd: Slapd, branch: str, tmp_path: Path) -> dict[str, tuple[LdapSettings, str]]:
    good = reader_settings(slapd, branch)
    other_ca = MadeCA.make(tmp_path / "other", "some other CA")
    return {
        "dns": (
            replace(good, urls=("ldap://no-such-host.invalid:389",)),
            "DNS: cannot resolve no-such-host.invalid",
        ),
        "tcp": (replace(good, urls=(f"ldap://127.0.0.1:{free_port()}",)), "TCP: cannot connect to 127.0.0.1"),
        "tls": (
            replace(good, urls=(slapd.ldaps_url,), ca_file=str(other_ca.ca_file)),
            "TLS: the certificate of",
        ),
        "bind": (replace(good, bind_password="wrong"), "refused the bind DN"),
        "access": (
            replace(good, bind_dn=LIMITED_DN),
            "insufficient access: the bind DN may not read entryUUID",
        ),
        "base": (replace(good, base_dns=(f"ou=nowhere,{branch}",)), "does not exist on the server"),
        "filter": (replace(good, user_filter="(objectClass=person"), "filter syntax: '(objectClass=person'"),
    }


@pytest.mark.parametrize("step", ["dns", "tcp", "tls", "bind", "access", "base", "filter"])
async def test_each_failure_is_named_by_the_step_that_failed(
    slapd: Slapd, branch: str, tmp_path: Path, step: str
) -> None:
    person(slapd.admin(), branch, "ann")
    settings, expected = _failures(slapd, branch, tmp_path)[step]
    check = await LdapReader(settings).check()
    assert not check.ok
    assert check.details["step"] == step
    assert expected in check.message
    assert READER_PASSWORD not in check.message


def test_the_dialect_is_guessed_from_the_root_dse() -> None:
    assert guess_dialect({"supportedCapabilities": [b"1.2.840.113556.1.4.800"]}) == "ad"
    assert guess_dialect({"defaultNamingContext": [b"DC=example,DC=test"]}) == "ad"  # Samba sets it
    assert guess_dialect({"supportedControl": [b"1.3.6.1.4.1.4203.1.9.1.1"]}) == "openldap"
    assert guess_dialect({}) == "openldap"


def test_the_ou_path_is_the_ous_below_the_longest_matching_base_dn() -> None:
    bases = ["dc=example,dc=com", "ou=people,dc=example,dc=com"]
    assert ou_path("uid=a,ou=EMEA,ou=Sales,ou=people,dc=example,dc=com", bases) == "Sales/EMEA"
    assert ou_path("uid=a,ou=Sales,dc=example,dc=com", bases) == "Sales"
    assert ou_path("uid=a,OU=R\\, D,ou=people, dc=example, dc=com", bases) == "R, D"
    assert ou_path("uid=a,ou=people,dc=example,dc=com", bases) is None
    assert ou_path("uid=a,ou=x,dc=other,dc=org", bases) == "x", "outside every base: every ou"


def test_delta_mode_is_read_as_delta_unless_delta_is_set() -> None:
    stored = {"url": "ldap://h", "bind_dn": "cn=a", "base_dn": "dc=x;ou=y,dc=x", "delta_mode": "usn"}
    assert settings_from_stored(stored, {}).delta == "usn"
    assert settings_from_stored({**stored, "delta": "dirsync"}, {}).delta == "dirsync"
    assert settings_from_stored(stored, {}).base_dns == ("dc=x", "ou=y,dc=x")


async def test_a_delta_mechanism_the_dialect_does_not_offer_is_a_config_failure(
    slapd: Slapd, branch: str
) -> None:
    check = await LdapReader(reader_settings(slapd, branch, delta="usn")).check()
    assert (check.ok, check.details["step"]) == (False, "config")
    assert "not an OpenLDAP mechanism" in check.message


@pytest.mark.parametrize(
    ("delta", "mode", "said"),
    [
        ("auto", "syncrepl", "delta reads: syncrepl (refreshOnly);"),
        ("syncrepl", "syncrepl", "delta reads: syncrepl (refreshOnly);"),
        ("timestamp", "timestamp", "delta reads: entryCSN polling;"),
        ("none", "none", "delta reads: none (every read is a full read);"),
    ],
)
async def test_the_check_says_the_delta_mechanism_it_found_not_the_setting(
    slapd: Slapd, branch: str, delta: str, mode: str, said: str
) -> None:
    person(slapd.admin(), branch, "ann")
    check = await LdapReader(reader_settings(slapd, branch, delta=delta)).check()
    assert check.ok, check.message
    assert (check.details["delta"], check.details["delta_reads"]) == (
        mode,
        said.removeprefix("delta reads: ")[:-1],
    )
    assert said in check.message
    assert "by auto" not in check.message
