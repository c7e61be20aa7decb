"""A real OpenLDAP server (Debian's slapd) for the tests, started in a temporary directory.

`Slapd.start(folder)` writes a cn=config with the overlays the LDAP source meets in the field
(syncprov with a session log, accesslog, memberof, refint, ppolicy for `pwdAccountLockedTime`),
loads it with `slapadd -n0`, and starts `slapd -d 0` (no fork: the test holds its pid) on a free
port for `ldap://` and another for `ldaps://`, with a certificate from a CA the fixture makes
(`MadeCA`). `stop()` ends it; `kill()` ends it abruptly (SIGKILL), for the failure tests;
`restart()` starts it again on the same ports and data.

Tests isolate themselves in an OU of their own (`branch()`), so one server serves a session.
Entries are written with the Relax control, so a test may set `entryUUID` itself (the Source
contract suite chooses its objects' ids; re-creating a deleted object with its old id is how it
restores one).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import ldap
import ldap.modlist
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SUFFIX = "dc=example,dc=com"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "secret"
READER_DN = f"cn=reader,{SUFFIX}"
READER_PASSWORD = "reader-secret"
LIMITED_DN = f"cn=limited,{SUFFIX}"  # may read entries but not their entryUUID (an ACL)
CAPPED_DN = f"cn=capped,{SUFFIX}"  # paged reads stop after 3 entries (size.prtotal), part-way
RELAX = ldap.controls.RequestControl("1.3.6.1.4.1.4203.666.5.12", criticality=True)
_branches = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class MadeCA:
    """A CA made for the test run, and a server certificate it signed for 127.0.0.1/localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def make(cls, folder: Path, name: str = "enlist test CA") -> MadeCA:
        folder.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        import ipaddress  # noqa: PLC0415

        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        paths = cls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
        paths.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        paths.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return paths


def _config(folder: Path, tls: MadeCA, *, sessionlog: bool, nopresent: bool) -> str:
    uid, gid = os.getuid(), os.getgid()
    sessionlog_line = "olcSpSessionlog: 10000\n" if sessionlog else ""
    sessionlog_line += "olcSpNoPresent: TRUE\n" if nopresent else ""
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {folder}/slapd.pid
olcArgsFile: {folder}/slapd.args
olcLogLevel: none
olcTLSCACertificateFile: {tls.ca_file}
olcTLSCertificateFile: {tls.cert_file}
olcTLSCertificateKeyFile: {tls.key_file}
olcAuthzRegexp: {{0}}"gidnumber={gid}\\+uidnumber={uid},cn=peercred,cn=external,cn=auth" "{ADMIN_DN}"

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {{0}}back_mdb
olcModuleLoad: {{1}}syncprov
olcModuleLoad: {{2}}accesslog
olcModuleLoad: {{3}}memberof
olcModuleLoad: {{4}}refint
olcModuleLoad: {{5}}ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file:///etc/ldap/schema/nis.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: 500

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: {ADMIN_DN}

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: cn=accesslog
olcDbDirectory: {folder}/accesslog
olcDbMaxSize: 1073741824
olcRootDN: {ADMIN_DN}
olcDbIndex: default eq
olcDbIndex: entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN

dn: olcDatabase={{2}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{2}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {folder}/data
olcDbMaxSize: 4294967296
olcRootDN: {ADMIN_DN}
olcRootPW: {ADMIN_PASSWORD}
olcLimits: {{0}}dn.exact="{ADMIN_DN}" size=unlimited time=unlimited
olcLimits: {{1}}dn.exact="{READER_DN}" size=unlimited time=unlimited
olcLimits: {{2}}dn.exact="{CAPPED_DN}" size.prtotal=3 size.soft=3 size.hard=3
olcDbIndex: objectClass eq
olcDbIndex: entryCSN,entryUUID eq
olcDbIndex: uid,mail,cn eq,sub
olcDbIndex: member,uniqueMember,memberUid,manager eq
olcDbIndex: modifyTimestamp eq
olcAccess: {{0}}to attrs=entryUUID by dn.exact="{ADMIN_DN}" manage by dn.exact="{LIMITED_DN}" none by users read
olcAccess: {{1}}to * by dn.exact="{ADMIN_DN}" manage by users read by anonymous auth by * none

dn: olcOverlay={{0}}syncprov,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {{0}}syncprov
olcSpCheckpoint: 100 10
{sessionlog_line}
dn: olcOverlay={{1}}accesslog,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {{1}}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogPurge: 07+00:00 01+00:00

dn: olcOverlay={{2}}memberof,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {{2}}memberof
olcMemberOfRefInt: FALSE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={{3}}refint,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {{3}}refint
olcRefintAttribute: member
olcRefintAttribute: manager
olcRefintNothing: cn=nobody,{SUFFIX}

dn: olcOverlay={{4}}ppolicy,olcDatabase={{2}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {{4}}ppolicy
"""


class Slapd:
    """One slapd process; see the module docstring."""

    def __init__(self, folder: Path, *, sessionlog: bool = True, nopresent: bool = False) -> None:
        self.folder = folder
        self.port = free_port()
        self.tls_port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_url = f"ldaps://127.0.0.1:{self.tls_port}"
        self.tls = MadeCA.make(folder / "tls")
        self.sessionlog = sessionlog
        self.nopresent = nopresent
        self.process: subprocess.Popen[bytes] | None = None

    def configure(self) -> None:
        """Write cn=config (and the empty databases' folders); run once before `start` or
        before `slapadd` of a seed file."""
        for sub in ("slapd.d", "data", "accesslog"):
            shutil.rmtree(self.folder / sub, ignore_errors=True)
            (self.folder / sub).mkdir(parents=True)
        config = self.folder / "config.ldif"
        config.write_text(
            _config(self.folder, self.tls, sessionlog=self.sessionlog, nopresent=self.nopresent),
            encoding="utf-8",
        )
        subprocess.run(
            ["/usr/sbin/slapadd", "-n0", "-F", str(self.folder / "slapd.d"), "-l", str(config), "-q"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["/usr/sbin/slapd", "-Tt", "-u", "-F", str(self.folder / "slapd.d")],
            check=True,
            capture_output=True,
        )

    def load(self, ldif: Path) -> None:
        """`slapadd` a seed file into the stopped server's database (the fast way to a big tree)."""
        subprocess.run(
            ["/usr/sbin/slapadd", "-q", "-b", SUFFIX, "-F", str(self.folder / "slapd.d"), "-l", str(ldif)],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        socket_url = "ldapi://" + urllib.parse.quote(str(self.folder / "ldapi"), safe="")
        log = (self.folder / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            [
                "/usr/sbin/slapd",
                "-F",
                str(self.folder / "slapd.d"),
                "-h",
                f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/ {socket_url}",
                "-d",
                "0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(self.folder / 'slapd.log').read_text()[-2000:]}")
            try:
                conn = ldap.initialize(self.url)
                conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 1)
                conn.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
                conn.unbind_s()
            except ldap.LDAPError:
                time.sleep(0.05)
            else:
                return
        raise RuntimeError("slapd did not answer within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """End slapd at once (SIGKILL), as a crashed or unplugged server."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def admin(self) -> ldap.ldapobject.LDAPObject:
        """A connection bound as the root DN (the tests' way to change the tree)."""
        conn = ldap.initialize(self.url)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return conn

    def seed_base(self) -> None:
        """The suffix, the reader identity and the `refint` placeholder, once per server."""
        conn = self.admin()
        try:
            add(
                conn,
                SUFFIX,
                {"objectClass": ["dcObject", "organization"], "dc": ["example"], "o": ["Example"]},
            )
            for dn in (READER_DN, LIMITED_DN, CAPPED_DN):
                add(
                    conn,
                    dn,
                    {
                        "objectClass": ["organizationalRole", "simpleSecurityObject"],
                        "cn": [dn.split(",")[0].split("=")[1]],
                        "userPassword": [READER_PASSWORD],
                    },
                )
        finally:
            conn.unbind_s()

    def branch(self, name: str | None = None) -> str:
        """A fresh OU of the suffix with `ou=people` and `ou=groups` below it: one test's tree."""
        ou = name or f"t{next(_branches)}"
        dn = f"ou={ou},{SUFFIX}"
        conn = self.admin()
        try:
            add(conn, dn, {"objectClass": ["organizationalUnit"], "ou": [ou]})
            for sub in ("people", "groups"):
                add(conn, f"ou={sub},{dn}", {"objectClass": ["organizationalUnit"], "ou": [sub]})
        finally:
            conn.unbind_s()
        return dn


def add(conn: ldap.ldapobject.LDAPObject, dn: str, attributes: dict[str, list[str]]) -> None:
    """Add an entry; `entryUUID` may be among the attributes (the Relax control allows it)."""
    encoded = {k: [v.encode() for v in values] for k, values in attributes.items()}
    conn.add_ext_s(dn, ldap.modlist.addModlist(encoded), serverctrls=[RELAX])
