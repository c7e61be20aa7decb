"""The AD dialect's watermark: which DC, which database copy on it, and how far we have read.

`uSNChanged` numbers are per DC and per database: a watermark names the DC (`dsServiceName`, its
NTDS Settings object) and that database's `invocationId`, which changes when the DC is restored
from a backup. A USN from another DC or another invocation means nothing here, so such a
watermark is expired (the next read is full), as MS-USN asks. A DirSync cookie is the server's
own, opaque, and carried as base64.

Serialised as compact JSON, e.g.
`{"v":1,"mode":"usn","dc":"CN=NTDS Settings,…","invocation_id":"…","usn":4711}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import ldap

from enlist.provisioning.sources.model import CursorExpiredError

DeltaMode = Literal["usn", "dirsync"]
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class DomainController:
    """The DC a connection is bound to, as its root DSE and NTDS Settings object say."""

    service_name: str
    """`dsServiceName`: the DN of the DC's NTDS Settings object."""
    invocation_id: str
    highest_committed_usn: int
    default_naming_context: str
    naming_contexts: tuple[str, ...]
    supported_controls: frozenset[str]


@dataclass(frozen=True, slots=True)
class Watermark:
    mode: DeltaMode
    dc: str
    invocation_id: str
    usn: int = 0
    dirsync_cookie: bytes = b""

    def encode(self) -> str:
        body: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "mode": self.mode,
            "dc": self.dc,
            "invocation_id": self.invocation_id,
        }
        if self.mode == "usn":
            body["usn"] = self.usn
        else:
            body["dirsync_cookie"] = base64.b64encode(self.dirsync_cookie).decode("ascii")
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> Watermark:
        """Read a stored watermark; one this version cannot read is expired, not an error, so
        the source recovers with a full read instead of failing every round."""
        try:
            body = json.loads(text)
            if body.get("v") != FORMAT_VERSION or body.get("mode") not in ("usn", "dirsync"):
                raise ValueError(body.get("v"))  # noqa: TRY301 - one path for every unreadable form
            if body["mode"] == "usn":
                return cls("usn", str(body["dc"]), str(body["invocation_id"]), usn=int(body["usn"]))
            cookie = base64.b64decode(body["dirsync_cookie"], validate=True)
            return cls("dirsync", str(body["dc"]), str(body["invocation_id"]), dirsync_cookie=cookie)
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
            msg = f"the stored Active Directory watermark cannot be read ({error!r}); a full read follows"
            raise CursorExpiredError(msg) from error


def _first(attributes: dict[str, list[bytes]], name: str) -> bytes:
    for key, values in attributes.items():
        if key.lower() == name.lower() and values:
            return values[0]
    msg = f"the domain controller's root DSE has no {name}"
    raise ValueError(msg)


def read_domain_controller(conn: Any) -> DomainController:
    """Read the root DSE and the DC's invocationId (two base searches)."""
    names = [
        "dsServiceName",
        "highestCommittedUSN",
        "defaultNamingContext",
        "namingContexts",
        "supportedControl",
    ]
    [(_, root)] = [
        item for item in conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", names) if item[0] is not None
    ]
    service_name = _first(root, "dsServiceName").decode()
    [(_, settings)] = [
        item
        for item in conn.search_s(service_name, ldap.SCOPE_BASE, "(objectClass=*)", ["invocationId"])
        if item[0] is not None
    ]
    invocation_id = str(uuid.UUID(bytes_le=_first(settings, "invocationId")))
    contexts: list[bytes] = next(
        (values for key, values in root.items() if key.lower() == "namingcontexts"), []
    )
    controls: list[bytes] = next(
        (values for key, values in root.items() if key.lower() == "supportedcontrol"), []
    )
    return DomainController(
        service_name=service_name,
        invocation_id=invocation_id,
        highest_committed_usn=int(_first(root, "highestCommittedUSN")),
        default_naming_context=_first(root, "defaultNamingContext").decode(),
        naming_contexts=tuple(value.decode() for value in contexts),
        supported_controls=frozenset(value.decode() for value in controls),
    )


def check_same_database(watermark: Watermark, dc: DomainController) -> None:
    """Raise `CursorExpiredError` unless `dc` is the DC and database copy the watermark was taken on."""
    if watermark.dc.lower() != dc.service_name.lower():
        msg = (
            f"the watermark is from domain controller {watermark.dc!r}, this read is served by "
            f"{dc.service_name!r}; uSNChanged is per DC, so a full read follows"
        )
        raise CursorExpiredError(msg)
    if watermark.invocation_id != dc.invocation_id:
        msg = (
            f"the domain controller's invocationId changed ({watermark.invocation_id} -> "
            f"{dc.invocation_id}: restored from a backup?); a full read follows"
        )
        raise CursorExpiredError(msg)
