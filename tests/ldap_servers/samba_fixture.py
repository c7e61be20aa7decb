"""One Samba AD DC per pytest run, shared by every test module that asks for it.

Each suite's conftest defines its own session fixture on top of `shared_samba_dc`; the DC lives
in the run's config stash, so the AD integration tests, the Source contract suite and the
end-to-end test all use the same one, provisioned once, and it stops when the run ends.
"""

from __future__ import annotations

import pytest

from tests.ldap_servers.samba import (
    SambaDC,
    SambaUnavailableError,
    start_samba_dc,
    unavailable_reason,
)

_DC = pytest.StashKey[SambaDC]()
_FAILED = pytest.StashKey[str]()


def shared_samba_dc(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> SambaDC:
    """The run's Samba DC, started on first use.

    Where Samba cannot run (not root, not installed) every AD test skips with the reason. Where
    it can, a provisioning or start failure fails them, with Samba's own output, and is not
    retried per module."""
    if _DC in config.stash:
        return config.stash[_DC]
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"Samba AD DC unavailable: {reason}")
    if _FAILED in config.stash:
        pytest.fail(config.stash[_FAILED])
    try:
        dc = start_samba_dc(tmp_path_factory.mktemp("samba-dc"))
    except SambaUnavailableError as error:
        config.stash[_FAILED] = f"Samba should run here but did not: {error}"
        pytest.fail(config.stash[_FAILED])
    config.stash[_DC] = dc
    config.add_cleanup(dc.stop)
    return dc
