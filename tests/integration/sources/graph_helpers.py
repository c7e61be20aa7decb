"""What the Graph reader tests share: a controllable clock, a certificate, a reader pointed at
the fake, and a reference applier of rounds that keeps the contract of `sources.model`."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from enlist.provisioning.sources.graph import Certificate, GraphSettings, graph_reader
from enlist.provisioning.sources.graph.reader import GraphReader
from enlist.provisioning.sources.model import UNCHANGED, GroupRecord, Removal, Round, UserRecord
from tests.fakes.graph.app import FakeGraph

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "a-secret-value~"


class Clock:
    """Monotonic time that moves only when the reader sleeps: waits are counted, not spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def make_certificate() -> Certificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "enlist-graph-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return Certificate(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        cert.public_bytes(serialization.Encoding.PEM),
    )


def reader_for(fake: FakeGraph, clock: Clock | None = None, **overrides: Any) -> GraphReader:
    settings: dict[str, Any] = {
        "tenant_id": fake.tenant.tenant_id,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "graph_url": fake.graph_base,
        "login_url": fake.auth_base,
        "requests_per_second": 0,
    }
    settings.update(overrides)
    clock = clock or Clock()
    reader = graph_reader(GraphSettings(**settings), sleep=clock.sleep)
    reader.tokens._clock = clock  # the token cache ages on the same clock
    reader._clock = clock
    return reader


@dataclass
class Directory:
    """A reference applier: what the framework does with rounds, per the contract."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    managers: dict[str, str | None] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    pages: int = 0

    def _user(self, record: UserRecord) -> None:
        self.users.setdefault(record.source_id, {}).update(record.attributes)
        if record.manager is not UNCHANGED:
            self.managers[record.source_id] = record.manager  # type: ignore[assignment]

    def _group(self, record: GroupRecord) -> None:
        self.groups.setdefault(record.source_id, {}).update(record.attributes)
        members = self.members.setdefault(record.source_id, set())
        listed = record.member_users | record.member_groups
        if record.members_complete:
            members.clear()
        members -= record.removed_members
        members |= listed

    def _remove(self, removal: Removal) -> None:
        if removal.kind == "user":
            self.users.pop(removal.source_id, None)
            self.managers.pop(removal.source_id, None)
        else:
            self.groups.pop(removal.source_id, None)
            self.members.pop(removal.source_id, None)

    async def apply(self, graph_round: Round) -> str | None:
        """Read the round to the end, then apply it whole (as the framework does)."""
        pages = [page async for page in graph_round.pages()]
        self.pages += len(pages)
        if graph_round.kind == "full":
            listed_users = {u.source_id for p in pages for u in p.users}
            listed_groups = {g.source_id for p in pages for g in p.groups}
            for gone in set(self.users) - listed_users:
                self._remove(Removal("user", gone))
            for gone in set(self.groups) - listed_groups:
                self._remove(Removal("group", gone))
        for page in pages:
            for user in page.users:
                self._user(user)
            for group in page.groups:
                self._group(group)
            for removal in page.removals:
                self._remove(removal)
        return graph_round.cursor

    def view(self) -> dict[str, Any]:
        """What is compared with the tenant: upn, enabled, department, manager, members."""
        live = set(self.users)
        return {
            "users": {
                i: (
                    a.get("userPrincipalName"),
                    a.get("accountEnabled"),
                    a.get("department"),
                    self.managers.get(i),
                )
                for i, a in self.users.items()
            },
            "groups": {
                i: (
                    a.get("displayName"),
                    frozenset(m for m in self.members.get(i, ()) if m in live or m in self.groups),
                )
                for i, a in self.groups.items()
            },
        }


def truth(
    fake: FakeGraph, *, users: set[str] | None = None, groups: set[str] | None = None
) -> dict[str, Any]:
    tenant = fake.tenant
    live_users = {i for i in tenant.users if i not in tenant.deleted_at and (users is None or i in users)}
    live_groups = {i for i in tenant.groups if i not in tenant.deleted_at and (groups is None or i in groups)}
    return {
        "users": {
            i: (
                tenant.users[i].get("userPrincipalName"),
                tenant.users[i].get("accountEnabled"),
                tenant.users[i].get("department"),
                tenant.managers.get(i),
            )
            for i in live_users
        },
        "groups": {
            i: (
                tenant.groups[i]["displayName"],
                frozenset(m for m in tenant.members[i] if m in live_users or m in live_groups),
            )
            for i in live_groups
        },
    }
