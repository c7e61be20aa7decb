"""The throwaway Samba AD DC itself: its own loopback address, the tutorial's command, the skip
without root."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import ldap
import pytest

from tests.ldap_servers.samba import claim_loopback_address, unavailable_reason

REPOSITORY = Path(__file__).resolve().parents[3]


def test_two_claims_get_two_different_loopback_addresses() -> None:
    first, first_lock = claim_loopback_address()
    second, second_lock = claim_loopback_address()
    try:
        assert first != second
        assert {first.rsplit(".", 1)[0], second.rsplit(".", 1)[0]} == {"127.0.0"}
    finally:
        first_lock.close()
        second_lock.close()


def test_without_root_samba_is_skipped_with_the_reason(tmp_path: Path) -> None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run a child as nobody")
    program = "from tests.ldap_servers.samba import unavailable_reason; print(unavailable_reason())"
    result = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", program],
        cwd=REPOSITORY, capture_output=True, text=True, check=False, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    if result.returncode != 0 and "Permission denied" in result.stderr:
        pytest.skip("nobody cannot read this checkout")
    assert "needs root" in result.stdout


def test_the_tutorial_command_starts_a_seeded_domain_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    if (reason := unavailable_reason()) is not None:
        pytest.skip(f"Samba AD DC unavailable: {reason}")
    root = tmp_path / "domain"
    with subprocess.Popen(
        [sys.executable, "-m", "tests.ldap_servers.samba", str(root)],
        cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            printed = ""
            for line in process.stdout:
                printed += line
                if "Ctrl+C" in line:
                    break
            found = dict(re.findall(r"^\s+(URL|Bind DN|Password|Base DN):\s+(.+)$", printed, re.MULTILINE))
            assert set(found) == {"URL", "Bind DN", "Password", "Base DN"}, printed
            conn = ldap.initialize(found["URL"])
            conn.simple_bind_s(found["Bind DN"], found["Password"])
            people = conn.search_s(found["Base DN"], ldap.SCOPE_SUBTREE, "(objectClass=user)", ["cn"])
            groups = conn.search_s(found["Base DN"], ldap.SCOPE_SUBTREE, "(objectClass=group)", ["cn"])
            conn.unbind_s()
            assert (len([dn for dn, _ in people if dn]), len([dn for dn, _ in groups if dn])) == (4, 3)
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
