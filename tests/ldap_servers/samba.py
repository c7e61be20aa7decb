"""A throwaway Samba AD domain controller for tests, in a temporary directory.

`samba-tool domain provision` writes the domain (its own smb.conf, private, state, lock, pid and
log directories: no system file is read or written), then `samba -i -M single` runs it as a child
process in the foreground, LDAP only. Samba's LDAP port is 389 and cannot be moved, so each DC
listens on its own loopback address, 127.0.0.N, with N free on this machine: two test runs (or a
test run and a tutorial domain) can each have one. A lock file per address, held while the DC
runs, keeps two runs from picking the same N.

`shared_samba_dc(config, …)` provisions and starts the DC once per pytest run (the first test that
asks for it pays ~5 s) and stops it when the run ends; every test module shares it and keeps to
its own OU. Without root (port 389) or without Samba, it skips with the reason.

`python -m tests.ldap_servers.samba [DIR]` starts one for a person to try (the AD tutorial).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ldap

REALM = "EXAMPLE.TEST"
DOMAIN = "EXAMPLE"
BASE_DN = "DC=example,DC=test"
ADMIN_PASSWORD = "Passw0rd!Passw0rd"
ADMIN_DN = f"CN=Administrator,CN=Users,{BASE_DN}"
ADMIN_UPN = f"Administrator@{REALM.lower()}"
LDAP_PORT = 389
LOCK_DIR = Path(tempfile.gettempdir()) / "enlist-samba-addresses"


class SambaUnavailableError(Exception):
    """Samba cannot run here (not root, or not installed); the message says why."""


def unavailable_reason() -> str | None:
    """Why a Samba DC cannot run on this machine, or None when it can."""
    if os.geteuid() != 0:
        return "a Samba AD DC needs root: its LDAP port (389) cannot be changed"
    for name in ("samba", "samba-tool"):
        if program(name) is None:
            return f"{name} is not installed (scripts/ensure-ldap.sh installs Debian's samba)"
    if not Path("/usr/share/samba/setup/ad-schema").is_dir():
        return "samba-ad-provision is not installed (scripts/ensure-ldap.sh installs it)"
    return None


def program(name: str) -> str | None:
    """Where a Samba program is: on the PATH, or in /usr/sbin (not on a non-root PATH)."""
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin")


@dataclass
class SambaDC:
    """A provisioned, running domain controller. `url` is plain LDAP on its own loopback address;
    simple binds over it are allowed (`ldap server require strong auth = no`), as a test DC may."""

    root: Path
    address: str
    timings: dict[str, float] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _lock: IO[str] | None = None

    base_dn: str = BASE_DN
    admin_dn: str = ADMIN_DN
    admin_upn: str = ADMIN_UPN
    password: str = ADMIN_PASSWORD

    @property
    def url(self) -> str:
        return f"ldap://{self.address}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{self.address}"

    @property
    def smb_conf(self) -> Path:
        return self.root / "etc" / "smb.conf"

    def connect(self, bind_dn: str | None = None, password: str | None = None) -> Any:
        """A new python-ldap connection, bound (as Administrator unless told), referrals off."""
        conn = ldap.initialize(self.url)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
        conn.set_option(ldap.OPT_TIMEOUT, 60)
        conn.simple_bind_s(bind_dn or self.admin_dn, password or self.password)
        return conn

    def stop(self) -> None:
        """Stop the DC (SIGTERM, then SIGKILL after 10 s) and free its address."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def claim_loopback_address() -> tuple[str, IO[str]]:
    """A loopback address 127.0.0.N whose port 389 is free, locked for this process.

    The lock (an flock on a file per address) is what keeps two concurrent runs apart; the
    bind probe skips an address something else (a system slapd, a DC of a run that did not
    lock) already listens on."""
    LOCK_DIR.mkdir(exist_ok=True)
    candidates = list(range(2, 255))
    random.shuffle(candidates)
    for n in candidates:
        address = f"127.0.0.{n}"
        lock = (LOCK_DIR / f"{address}.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, LDAP_PORT))
            except OSError:
                lock.close()
                continue
        return address, lock
    msg = "no free loopback address 127.0.0.2-254 with port 389 free"
    raise SambaUnavailableError(msg)


def provision(root: Path, address: str) -> float:
    """Provision the domain into `root` (which must be empty) for `address`; seconds taken."""
    started = time.perf_counter()
    command = [
        program("samba-tool") or "samba-tool",
        "domain",
        "provision",
        f"--targetdir={root}",
        f"--realm={REALM}",
        f"--domain={DOMAIN}",
        "--server-role=dc",
        "--dns-backend=NONE",
        f"--adminpass={ADMIN_PASSWORD}",
        # "IP/mask" makes Samba use the address as given; a bare 127.0.0.N that is not on an
        # interface is dropped with "no network interfaces found".
        f"--option=interfaces={address}/8",
        "--option=bind interfaces only=yes",
        "--option=server services=ldap",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        msg = f"samba-tool domain provision failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        raise SambaUnavailableError(msg)
    _finish_smb_conf(root)
    return time.perf_counter() - started


def _finish_smb_conf(root: Path) -> None:
    """Keep logs, pids and sockets inside `root`, and allow simple binds over plain LDAP.

    Provision writes `log file = /var/log/samba/…` and ignores the strong-auth option given to
    it, so both are set here, in [global]."""
    conf = root / "etc" / "smb.conf"
    lines = [
        line
        for line in conf.read_text().splitlines()
        if not line.strip().startswith(("log file", "pid directory", "ncalrpc dir"))
    ]
    at = lines.index("[global]") + 1
    extra = [
        f"\tlog file = {root}/log/log.%m",
        f"\tpid directory = {root}/run",
        f"\tncalrpc dir = {root}/ncalrpc",
        f"\twinbindd socket directory = {root}/winbindd",
        "\tldap server require strong auth = no",
        # No fsync per write: a test DC is thrown away. Bulk adds run ~3x faster.
        "\tldb:nosync = true",
        "\tlog level = 1",
    ]
    conf.write_text("\n".join(lines[:at] + extra + lines[at:]) + "\n")
    for directory in ("log", "run", "ncalrpc", "winbindd"):
        (root / directory).mkdir(exist_ok=True)


def start(dc: SambaDC, *, timeout: float = 60.0) -> float:
    """Start `dc` as a child process and wait until its root DSE answers; seconds taken."""
    started = time.perf_counter()
    log = (dc.root / "log" / "samba.out").open("ab")
    dc.process = subprocess.Popen(
        [program("samba") or "samba", "-i", "-M", "single", "-s", str(dc.smb_conf)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, before exec
    )
    log.close()
    deadline = started + timeout
    while True:
        if dc.process.poll() is not None:
            tail = (dc.root / "log" / "samba.out").read_text(errors="replace")[-2000:]
            msg = f"samba exited with {dc.process.returncode}:\n{tail}"
            raise SambaUnavailableError(msg)
        if _root_dse_answers(dc.url):
            return time.perf_counter() - started
        if time.perf_counter() > deadline:
            dc.stop()
            msg = f"samba did not answer on {dc.url} within {timeout} s"
            raise SambaUnavailableError(msg)
        time.sleep(0.05)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started Samba dies, so a killed
    test run or tutorial command never leaves a DC holding its address (Linux prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _root_dse_answers(url: str) -> bool:
    conn = ldap.initialize(url)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 1)
    try:
        conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["highestCommittedUSN"])
    except ldap.LDAPError:
        return False
    finally:
        conn.unbind_s()
    return True


def start_samba_dc(root: Path) -> SambaDC:
    """Provision a fresh domain into `root` (created if missing) and start it."""
    reason = unavailable_reason()
    if reason is not None:
        raise SambaUnavailableError(reason)
    address, lock = claim_loopback_address()
    root.mkdir(parents=True, exist_ok=True)
    dc = SambaDC(root=root, address=address, _lock=lock)
    try:
        dc.timings["provision_s"] = provision(root, address)
        dc.timings["start_s"] = start(dc)
    except BaseException:
        dc.stop()
        raise
    return dc


def main(argv: list[str]) -> int:
    """Start a throwaway domain, print how to reach it, serve until Ctrl+C (or SIGTERM)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    root = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="enlist-samba-"))
    if root.exists() and any(root.iterdir()):
        sys.stderr.write(f"{root} is not empty: give a new or empty directory\n")
        return 2
    try:
        dc = start_samba_dc(root)
    except SambaUnavailableError as error:
        sys.stderr.write(f"cannot start a Samba AD DC: {error}\n")
        return 1
    from tests.ldap_servers.samba_seed import seed_tutorial_domain  # noqa: PLC0415

    ou = seed_tutorial_domain(dc)
    sys.stdout.write(
        f"Samba AD DC for {REALM} is running (provisioned in {dc.timings['provision_s']:.1f} s,"
        f" started in {dc.timings['start_s']:.1f} s)\n"
        f"  URL:        {dc.url}\n"
        f"  Bind DN:    {dc.admin_dn}\n"
        f"  Password:   {dc.password}\n"
        f"  Base DN:    {ou}\n"
        f"  Directory:  {root}\n"
        "Ctrl+C stops it.\n"
    )
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        while dc.process is not None and dc.process.poll() is None:
            time.sleep(1)
    dc.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
