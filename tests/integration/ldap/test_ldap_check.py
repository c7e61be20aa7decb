"""`source test` for an LDAP source: it binds, reads the root DSE and a page, and names the
step that failed: DNS, TCP, TLS, bind, insufficient access, bad base DN, filter syntax."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from enlist.provisioning.sources.ldap.reader import LdapReader
from enlist.provisioning.sources.ldap.settings import LdapSettings
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
