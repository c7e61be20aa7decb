"""The systemd units in deploy/systemd/ pass `systemd-analyze verify` with no warning (every key
known, every section right, every command executable), and every `enlist` command line they run
is one the CLI accepts."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.live import ENLIST

ROOT = Path(__file__).resolve().parents[3]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED_AT = "/opt/enlist"  # where the units expect the clone (ExecStart, Documentation)


def systemd_analyze() -> str:
    """The `systemd-analyze` binary, installed by scripts/ensure-ops-tools.sh when missing; the
    test is skipped only when that script cannot install it (not root, no apt), saying why."""
    found = shutil.which("systemd-analyze")
    if found is None:
        done = subprocess.run(
            [ROOT / "scripts" / "ensure-ops-tools.sh"], capture_output=True, text=True, check=False
        )
        found = shutil.which("systemd-analyze")
        if found is None:
            pytest.skip(f"systemd-analyze cannot be installed here: {done.stderr.strip()}")
    return found


def installed_units(where: Path) -> list[Path]:
    """The units as installed from this clone: /opt/enlist replaced by the clone's path."""
    units = []
    for unit in sorted(UNITS.iterdir()):
        copy = where / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED_AT, str(ROOT)))
        units.append(copy)
    return units


def test_the_deploy_directory_has_both_services_and_the_backup_timer() -> None:
    assert {u.name for u in UNITS.iterdir()} == {
        "enlist-lms.service",
        "enlist-provisioning.service",
        "enlist-backup.service",
        "enlist-backup.timer",
    }


def test_systemd_analyze_verifies_every_unit_without_a_warning(tmp_path: Path) -> None:
    binary = systemd_analyze()
    units = installed_units(tmp_path)
    done = subprocess.run(
        [binary, "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_TARGET": "console"},  # its findings on stderr, not the journal
        cwd=tmp_path,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def exec_starts() -> list[list[str]]:
    return [
        shlex.split(line.removeprefix("ExecStart="))
        for unit in sorted(UNITS.glob("*.service"))
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=")
    ]


@pytest.mark.parametrize("command", exec_starts(), ids=" ".join)
def test_every_command_a_unit_runs_exists_with_its_options(command: list[str]) -> None:
    program = Path(command[0].replace(INSTALLED_AT, str(ROOT)))
    if program.name == "enlist":  # the options are checked by the CLI itself: --help after them
        done = subprocess.run([ENLIST, *command[1:], "--help"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    else:
        assert os.access(program, os.X_OK), f"{program} is not executable"
