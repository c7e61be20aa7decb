"""TLS to a real slapd with a CA made for the test: `ldaps://` and StartTLS read with the right
CA, and are refused, with an error that says so, with another CA."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from enlist.provisioning.sources.ldap.reader import LdapReader
from enlist.provisioning.sources.ldap.settings import LdapSettings
from enlist.provisioning.sources.model import SourceUnavailableError
from tests.integration.ldap.helpers import collect, person, reader_settings
from tests.ldap_servers.slapd import MadeCA, Slapd

TRANSPORTS = ["ldaps", "starttls"]


def _tls(slapd: Slapd, branch: str, transport: str, ca_file: Path) -> LdapSettings:
    settings = reader_settings(slapd, branch, ca_file=str(ca_file))
    if transport == "ldaps":
        return replace(settings, urls=(slapd.ldaps_url,))
    return replace(settings, start_tls=True)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_server_certificate_from_the_given_ca_is_accepted(
    slapd: Slapd, branch: str, transport: str
) -> None:
    _, ann = person(slapd.admin(), branch, "ann")
    reader = LdapReader(_tls(slapd, branch, transport, slapd.tls.ca_file))
    check = await reader.check()
    assert check.ok, check.message
    assert check.details["tls"] == "verified"
    pages, cursor, _ = await collect(reader)
    assert [u.source_id for p in pages for u in p.users] == [ann]
    assert cursor is not None


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_server_certificate_from_another_ca_is_refused_with_a_clear_error(
    slapd: Slapd, branch: str, tmp_path: Path, transport: str
) -> None:
    person(slapd.admin(), branch, "ann")
    other = MadeCA.make(tmp_path / "other", "not the server's CA")
    reader = LdapReader(_tls(slapd, branch, transport, other.ca_file))
    check = await reader.check()
    assert (check.ok, check.details["step"]) == (False, "tls")
    assert f"could not be verified against the CA file {other.ca_file}" in check.message
    with pytest.raises(SourceUnavailableError, match="TLS: the certificate of"):
        await collect(reader)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_verification_is_on_unless_turned_off(
    slapd: Slapd, branch: str, tmp_path: Path, transport: str
) -> None:
    person(slapd.admin(), branch, "ann")
    other = MadeCA.make(tmp_path / "other", "not the server's CA")
    settings = _tls(slapd, branch, transport, other.ca_file)
    assert settings.tls_verify
    check = await LdapReader(replace(settings, tls_verify=False)).check()
    assert check.ok, check.message
    assert check.details["tls"] == "NOT verified"
