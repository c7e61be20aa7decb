"""One Samba AD DC per pytest run, shared by every test module that asks for it.

Each suite's conftest defines its own session fixture on top of `shared_samba_dc`; the DC lives
in the run's config stash, so the AD integration tests, the Source contract suite and the
end-to-end test all use the same one, provisioned once, and it stops when the run ends.
"""

from __future__ import annotations

import pytest

from tests.ldap_servers.samba import SambaDC, SambaUnavailableError, start_samba_dc

_DC = pytest.StashKey[SambaDC]()
_FAILED = pytest.StashKey[str]()


def shared_samba_dc(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> SambaDC:
    """The run's Samba DC, started on first use; skips (with the reason) where Samba cannot run.

    A provisioning or start failure on a machine that can run Samba is reported once and skips
    the remaining AD tests with the same message, rather than provisioning again per module."""
    if _DC in config.stash:
        return config.stash[_DC]
    if _FAILED in config.stash:
        pytest.skip(config.stash[_FAILED])
    try:
        dc = start_samba_dc(tmp_path_factory.mktemp("samba-dc"))
    except SambaUnavailableError as error:
        config.stash[_FAILED] = f"Samba AD DC unavailable: {error}"
        pytest.skip(config.stash[_FAILED])
    config.stash[_DC] = dc
    config.add_cleanup(dc.stop)
    return dc
