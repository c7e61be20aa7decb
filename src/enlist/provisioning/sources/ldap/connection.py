"""Connections to an LDAP server over python-ldap (blocking: called from worker threads only).

- Referrals are never chased (`OPT_REFERRALS` 0): AD answers a domain-root search with
  continuation references that stall a read; search references are skipped.
- `OPT_NETWORK_TIMEOUT` bounds the TCP connect, `OPT_TIMEOUT` every operation: a server that
  stops answering fails the round instead of hanging it.
- TLS options are set before `OPT_X_TLS_NEWCTX`, which makes libldap build the TLS context from
  them; verification (`OPT_X_TLS_DEMAND`) is on unless the source turned it off.
- Full reads are paged (RFC 2696), one page in memory at a time.
- Every failure is a `LdapStepError` (a `SourceUnavailableError`) whose `step` says what failed:
  `dns`, `tcp`, `tls`, `bind`, `access`, `base`, `filter`, `server`.
"""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

import ldap
from ldap.controls import SimplePagedResultsControl

from enlist.provisioning.sources.ldap.dialect import Entry
from enlist.provisioning.sources.ldap.settings import LdapSettings
from enlist.provisioning.sources.model import SourceUnavailableError

Connection = Any  # ldap.ldapobject.LDAPObject: python-ldap ships no type hints


class LdapStepError(SourceUnavailableError):
    """An LDAP step failed; `step` names which (see the module docstring)."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


class Counter:
    """LDAP operations sent on a connection (searches, search pages, binds): the benchmark and
    the tests check that a delta read's operations do not grow with the tree."""

    def __init__(self) -> None:
        self.operations = 0


def _detail(error: ldap.LDAPError) -> str:
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    parts = [str(info.get("desc") or type(error).__name__)]
    if info.get("info"):
        parts.append(str(info["info"]))
    return ": ".join(parts)


def _host_port(url: str) -> tuple[str, int] | None:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "ldapi":
        return None
    return parsed.hostname or "localhost", parsed.port or (636 if parsed.scheme == "ldaps" else 389)


def probe_network(url: str, timeout: float) -> None:
    """Resolve the URL's host and open a TCP connection to it; raise `LdapStepError` (`dns` or
    `tcp`) saying which of the two failed."""
    target = _host_port(url)
    if target is None:
        return
    host, port = target
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise LdapStepError("dns", f"DNS: cannot resolve {host} ({error.strerror})") from None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise LdapStepError("tcp", f"TCP: cannot connect to {host}:{port} ({reason})") from None


def _tcp_answers(url: str, timeout: float) -> bool:
    try:
        probe_network(url, timeout)
    except LdapStepError:
        return False
    return True


def _tls_options(conn: Connection, settings: LdapSettings) -> None:
    if settings.ca_file:
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, settings.ca_file)
    conn.set_option(
        ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND if settings.tls_verify else ldap.OPT_X_TLS_NEVER
    )
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # last: builds the context from the options above


def _tls_failure(url: str, error: ldap.LDAPError, settings: LdapSettings) -> LdapStepError:
    hint = f" against the CA file {settings.ca_file}" if settings.ca_file else " against the system's CAs"
    return LdapStepError(
        "tls",
        f"TLS: the certificate of {url} could not be verified{hint} ({_detail(error)}); "
        "give the CA that signed it with --ca-file",
    )


def open_connection(url: str, settings: LdapSettings, counter: Counter | None = None) -> Connection:
    """A connection to `url`, TLS set up (StartTLS done) and bound with the source's identity."""
    conn = ldap.initialize(url, bytes_mode=False)
    conn.protocol_version = ldap.VERSION3
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, settings.connect_timeout)
    conn.set_option(ldap.OPT_TIMEOUT, settings.timeout)
    if settings.uses_tls:
        _tls_options(conn, settings)
    try:
        if settings.start_tls:
            conn.start_tls_s()
    except ldap.CONNECT_ERROR as error:
        raise _tls_failure(url, error, settings) from None
    except ldap.SERVER_DOWN as error:
        raise LdapStepError("tcp", f"{url} does not answer ({_detail(error)})") from None
    except ldap.PROTOCOL_ERROR as error:
        raise LdapStepError("tls", f"TLS: {url} refused StartTLS ({_detail(error)})") from None
    try:
        conn.simple_bind_s(settings.bind_dn, settings.bind_password)
    except ldap.INVALID_CREDENTIALS:
        raise LdapStepError(
            "bind", f"bind: {url} refused the bind DN {settings.bind_dn!r} with this password"
        ) from None
    except ldap.SERVER_DOWN as error:
        if url.startswith("ldaps://") and _tcp_answers(url, settings.connect_timeout):
            # libldap says only "Can't contact LDAP server" when the handshake fails; the port
            # answering TCP is what tells a refused certificate from a server that is down.
            raise _tls_failure(url, error, settings) from None
        raise LdapStepError("tcp", f"{url} does not answer ({_detail(error)})") from None
    except ldap.CONNECT_ERROR as error:
        raise _tls_failure(url, error, settings) from None
    except ldap.TIMEOUT:
        raise LdapStepError("server", f"{url} did not answer within {settings.timeout:g} s") from None
    except (ldap.STRONG_AUTH_REQUIRED, ldap.CONFIDENTIALITY_REQUIRED) as error:
        raise LdapStepError(
            "bind",
            f"bind: {url} requires TLS or signing for this bind; use ldaps:// or --start-tls "
            f"({_detail(error)})",
        ) from None
    except ldap.LDAPError as error:
        raise LdapStepError("bind", f"bind to {url} failed: {_detail(error)}") from None
    if counter is not None:
        counter.operations += 1
    return conn


def connect(settings: LdapSettings, counter: Counter | None = None) -> Connection:
    """A bound connection to the first of the source's URLs that answers; the last failure
    otherwise (a refused password is not retried on the next URL: it would be refused too)."""
    failure: LdapStepError | None = None
    for url in settings.urls:
        try:
            return open_connection(url, settings, counter)
        except LdapStepError as error:
            if error.step in {"bind", "tls"}:
                raise
            failure = error
    assert failure is not None
    raise failure


def failure_of(error: ldap.LDAPError, base: str, filterstr: str) -> LdapStepError:
    """An `LdapStepError` for a search's error, named after what the admin must fix."""
    if isinstance(error, ldap.NO_SUCH_OBJECT):
        return LdapStepError("base", f"base DN {base!r} does not exist on the server (or is not visible)")
    if isinstance(error, ldap.INSUFFICIENT_ACCESS):
        return LdapStepError("access", f"insufficient access: the bind DN may not read {base!r}")
    if isinstance(error, ldap.FILTER_ERROR):
        return LdapStepError("filter", f"filter syntax: {filterstr!r} is not a valid LDAP filter")
    if isinstance(error, ldap.SIZELIMIT_EXCEEDED):
        return LdapStepError(
            "access",
            "the server's size limit stopped a paged read: grant the bind DN `size.prtotal=unlimited` "
            "(OpenLDAP olcLimits) or a larger MaxPageSize",
        )
    if isinstance(error, ldap.TIMEOUT):
        return LdapStepError("server", "the LDAP server stopped answering during a read (timed out)")
    if isinstance(error, ldap.SERVER_DOWN):
        return LdapStepError("server", f"the LDAP server stopped answering during a read ({_detail(error)})")
    return LdapStepError("server", f"the LDAP server answered an error during a read: {_detail(error)}")


def paged_search(
    conn: Connection,
    base: str,
    filterstr: str,
    attributes: Sequence[str],
    page_size: int,
    counter: Counter | None = None,
    *,
    scope: int = ldap.SCOPE_SUBTREE,
) -> Iterator[list[Entry]]:
    """The entries of one subtree search, a page (at most `page_size` entries) at a time."""
    control = SimplePagedResultsControl(True, size=page_size, cookie="")
    while True:
        try:
            msgid = conn.search_ext(base, scope, filterstr, list(attributes), serverctrls=[control])
            _, data, _, controls = conn.result3(msgid)
        except ldap.LDAPError as error:
            raise failure_of(error, base, filterstr) from None
        if counter is not None:
            counter.operations += 1
        entries: list[Entry] = [
            (dn, attrs) for dn, attrs in data if dn is not None and isinstance(attrs, dict)
        ]
        del data
        yield entries
        del entries
        cookie = next(
            (c.cookie for c in controls if c.controlType == SimplePagedResultsControl.controlType), None
        )
        if not cookie:
            return
        control.cookie = cookie


def search(
    conn: Connection, base: str, filterstr: str, attributes: Sequence[str], counter: Counter | None = None
) -> list[Entry]:
    """The entries of one unpaged subtree search (for small answers: see `resolve`)."""
    try:
        found = conn.search_ext_s(base, ldap.SCOPE_SUBTREE, filterstr, list(attributes))
    except ldap.NO_SUCH_OBJECT:
        return []
    except ldap.LDAPError as error:
        raise failure_of(error, base, filterstr) from None
    finally:
        if counter is not None:
            counter.operations += 1
    return [(dn, attrs) for dn, attrs in found if dn is not None and isinstance(attrs, dict)]


def search_base(
    conn: Connection, dn: str, attributes: Sequence[str], counter: Counter | None = None
) -> Entry | None:
    """The one entry at `dn` (a base search), or None when it does not exist."""
    try:
        found = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", list(attributes))
    except ldap.NO_SUCH_OBJECT:
        return None
    except ldap.LDAPError as error:
        raise failure_of(error, dn, "(objectClass=*)") from None
    finally:
        if counter is not None:
            counter.operations += 1
    return next(((d, a) for d, a in found if d is not None), None)


def root_dse(conn: Connection, counter: Counter | None = None) -> dict[str, list[bytes]]:
    entry = search_base(
        conn,
        "",
        [
            "namingContexts",
            "supportedControl",
            "supportedCapabilities",
            "vendorName",
            "objectClass",
            "defaultNamingContext",
            "dsServiceName",
            "highestCommittedUSN",
        ],
        counter,
    )
    return {k: list(v) for k, v in entry[1].items()} if entry else {}


def guess_dialect(dse: dict[str, list[bytes]]) -> str:
    """`ad` when the root DSE says Active Directory (its capabilities OID, or a
    `defaultNamingContext`, which Samba also sets), else `openldap`."""
    capabilities = {v.decode() for v in dse.get("supportedCapabilities", ())}
    if "1.2.840.113556.1.4.800" in capabilities or dse.get("defaultNamingContext"):
        return "ad"
    return "openldap"
