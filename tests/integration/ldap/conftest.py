"""The LDAP source's integration tests run against the process's real slapd (one per run),
each test in an OU of its own."""

from __future__ import annotations

import pytest

from tests.ldap_servers.slapd import Slapd
from tests.ldap_servers.slapd_world import shared_slapd


@pytest.fixture
def slapd() -> Slapd:
    return shared_slapd()


@pytest.fixture
def branch(slapd: Slapd) -> str:
    """A fresh OU (with ou=people and ou=groups) for this test."""
    return slapd.branch()
