"""The searches the AD dialect makes on its own: paged, Show Deleted, DirSync.

python-ldap has the paged-results control; the two AD controls are small: Show Deleted
(1.2.840.113556.1.4.417) has no value, DirSync (1.2.840.113556.1.4.841, MS-ADTS 3.1.1.3.4.1.3)
carries `SEQUENCE { flags INTEGER, maxBytes INTEGER, cookie OCTET STRING }` both ways (the
response's `flags` is "more data"). All calls block; the reader runs them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import ldap
from ldap.controls import KNOWN_RESPONSE_CONTROLS, LDAPControl, RequestControl, ResponseControl
from ldap.controls.libldap import SimplePagedResultsControl
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import namedtype, univ

from enlist.provisioning.sources.ldap.dialect import Entry

SHOW_DELETED_OID = "1.2.840.113556.1.4.417"
DIRSYNC_OID = "1.2.840.113556.1.4.841"
PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
DIRSYNC_INCREMENTAL_VALUES = 0x80000000
"""Linked values (a group's `member`) come as the added and removed values, not the whole list."""


class _DirSyncValue(univ.Sequence):  # type: ignore[misc] # pyasn1 has no type hints
    componentType = namedtype.NamedTypes(  # noqa: N815 - pyasn1's name
        namedtype.NamedType("flags", univ.Integer()),
        namedtype.NamedType("maxBytes", univ.Integer()),
        namedtype.NamedType("cookie", univ.OctetString()),
    )


class DirSyncControl(RequestControl, ResponseControl):  # type: ignore[misc] # python-ldap has no type hints
    """The DirSync request and response control. After a response, `cookie` is the server's new
    cookie and `more` says whether the same search must be repeated with it."""

    controlType = DIRSYNC_OID  # noqa: N815 - python-ldap's name

    def __init__(
        self,
        criticality: bool = True,
        flags: int = DIRSYNC_INCREMENTAL_VALUES,
        max_bytes: int = 0x7FFFFFFF,
        cookie: bytes = b"",
    ) -> None:
        self.criticality = criticality
        self.flags = flags
        self.max_bytes = max_bytes
        self.cookie = cookie
        self.more = False

    def encodeControlValue(self) -> bytes:  # noqa: N802 - python-ldap's name
        value = _DirSyncValue()
        value["flags"] = self.flags
        value["maxBytes"] = self.max_bytes
        value["cookie"] = self.cookie
        return bytes(encoder.encode(value))

    def decodeControlValue(self, encoded: bytes) -> None:  # noqa: N802 - python-ldap's name
        value, _ = decoder.decode(encoded, asn1Spec=_DirSyncValue())
        self.more = int(value["flags"]) != 0
        self.cookie = bytes(value["cookie"])


KNOWN_RESPONSE_CONTROLS[DIRSYNC_OID] = DirSyncControl


def show_deleted() -> Any:
    return LDAPControl(SHOW_DELETED_OID, True, None)


def paged_search(
    conn: Any,
    base: str,
    filterstr: str,
    attributes: Sequence[str],
    *,
    page_size: int,
    scope: int = ldap.SCOPE_SUBTREE,
    controls: Sequence[Any] = (),
) -> Iterator[list[Entry]]:
    """Pages of entries (search references skipped), with RFC 2696 paging."""
    cookie = b""
    while True:
        paging = SimplePagedResultsControl(True, size=page_size, cookie=cookie)
        message_id = conn.search_ext(
            base, scope, filterstr, list(attributes), serverctrls=[*controls, paging]
        )
        _, data, _, response_controls = conn.result3(message_id)
        yield [(dn, attributes) for dn, attributes in data if dn is not None]
        cookie = next(
            (control.cookie for control in response_controls if control.controlType == PAGED_RESULTS_OID),
            b"",
        )
        if not cookie:
            return


def dirsync_search(
    conn: Any, naming_context: str, filterstr: str, attributes: Sequence[str], cookie: bytes
) -> Iterator[tuple[list[Entry], bytes]]:
    """DirSync rounds from `cookie`: each page of changed entries with the cookie after it.

    DirSync searches a whole naming context (no OU scoping) and returns only the attributes
    that changed; the caller re-reads what it needs."""
    while True:
        request = DirSyncControl(cookie=cookie)
        message_id = conn.search_ext(
            naming_context, ldap.SCOPE_SUBTREE, filterstr, list(attributes), serverctrls=[request]
        )
        _, data, _, response_controls = conn.result3(message_id)
        response = next((c for c in response_controls if c.controlType == DIRSYNC_OID), None)
        if response is None:
            msg = "the server answered a DirSync search without the DirSync control"
            raise ldap.PROTOCOL_ERROR(msg)
        cookie = response.cookie
        yield [(dn, attributes) for dn, attributes in data if dn is not None], cookie
        if not response.more:
            return
