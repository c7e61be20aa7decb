"""The Graph source reader: `check()` for `source test`, `start_round()` for reads.

Each call opens its own HTTP client and closes it when done (a round: when its pages end), so a
reader holds no connection between rounds; the access token is kept across them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

import httpx2

from enlist.provisioning.sources.graph.auth import TokenProvider
from enlist.provisioning.sources.graph.client import GraphClient, Sleep
from enlist.provisioning.sources.graph.errors import (
    CredentialsError,
    GraphHTTPError,
    PermissionMissingError,
    UnreachableError,
)
from enlist.provisioning.sources.graph.reading import GraphRound, decode_cursor
from enlist.provisioning.sources.graph.scope import Scope, read_scope
from enlist.provisioning.sources.graph.settings import GraphSettings
from enlist.provisioning.sources.model import CheckResult, Page, RoundKind, SourceUnavailableError


class _OwnedRound:
    """A round that opens its own HTTP client when its pages are read and closes it when they
    end or stop, so a round started and never read holds no connection."""

    def __init__(
        self, reader: GraphReader, kind: RoundKind, links: tuple[str, str] | None, scope: Scope | None
    ) -> None:
        self.kind: RoundKind = kind
        self._reader = reader
        self._links = links
        self._scope = scope
        self._cursor: str | None = None

    @property
    def cursor(self) -> str | None:
        return self._cursor

    async def pages(self) -> AsyncIterator[Page]:
        async with self._reader._client() as client:  # noqa: SLF001 - the reader's own round
            settings = self._reader.settings
            if self._links is None:
                inner = GraphRound.full(client, settings, self._scope)
            else:
                inner = GraphRound(
                    client,
                    settings,
                    "delta",
                    users_link=self._links[0],
                    groups_link=self._links[1],
                    scope=self._scope,
                )
            async for page in inner.pages():
                yield page
            self._cursor = inner.cursor


class GraphReader:
    """A `SourceReader` for Microsoft Entra ID through Graph. `last_client` is the client of the
    latest round or check (its request count and waits), for tests and the benchmark."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self.tokens = TokenProvider(settings, clock)
        self.last_client: GraphClient | None = None

    def _client(self) -> GraphClient:
        def connect() -> httpx2.AsyncClient:
            return httpx2.AsyncClient(
                transport=self._transport, timeout=self.settings.timeout, follow_redirects=False
            )

        client = GraphClient(
            self.settings,
            connect,
            self.tokens,
            sleep=self._sleep,
            clock=self._clock,
            reconnect=self._transport is None,  # a transport handed in is not ours to close
        )
        self.last_client = client
        return client

    async def start_round(self, cursor: str | None, *, full: bool = False) -> _OwnedRound:
        stored = decode_cursor(cursor) if cursor is not None and not full else None
        async with self._client() as client:
            scope = await read_scope(client, self.settings)
        if stored is None:
            return _OwnedRound(self, "full", None, scope)
        if scope is not None and stored.get("scope") != scope.digest:
            # Who is in scope changed: only a full round lists those who entered or left.
            return _OwnedRound(self, "full", None, scope)
        return _OwnedRound(self, "delta", (stored["users"], stored["groups"]), scope)

    async def check(self) -> CheckResult:
        """Reach the login endpoint, then Graph with each call a read needs; say what is wrong."""
        settings = self.settings
        async with self._client() as client:
            try:
                await client.token()
            except CredentialsError as error:
                # Entra's description ends with a full stop already.
                told = str(error).rstrip(". ")
                return CheckResult(
                    False, f"{told}. Check the client id and the secret or certificate.", {"step": "token"}
                )
            except UnreachableError as error:
                return CheckResult(False, str(error), {"step": "token"})
            probes = [
                ("/users?$select=id&$top=1", "User.Read.All"),
                ("/groups?$select=id&$top=1", "GroupMember.Read.All"),
            ]
            if settings.scope_app_id:
                probes.append(
                    (f"/servicePrincipals(appId='{quote(settings.scope_app_id)}')", "Application.Read.All")
                )
            missing: list[str] = []
            for path, permission in probes:
                try:
                    await client.get(path, permission=permission)
                except PermissionMissingError:
                    missing.append(permission)
                except GraphHTTPError as error:
                    if error.status == 404 and permission == "Application.Read.All":
                        return CheckResult(
                            False,
                            "no enterprise application (service principal) with appId "
                            f"{settings.scope_app_id}",
                            {"step": "scope"},
                        )
                    return CheckResult(False, str(error), {"step": "graph"})
                except SourceUnavailableError as error:
                    return CheckResult(False, str(error), {"step": "graph"})
            if missing:
                return CheckResult(
                    False,
                    f"the app lacks the application permission {' and '.join(missing)}: "
                    "add it under API permissions "
                    "of the app registration and grant admin consent",
                    {"step": "permissions", "missing_permissions": missing},
                )
            unknown = []
            for group_id in settings.scope_groups:
                try:
                    await client.get(
                        f"/groups/{quote(group_id)}?$select=id", permission="GroupMember.Read.All"
                    )
                except GraphHTTPError as error:
                    if error.status != 404:
                        return CheckResult(False, str(error), {"step": "scope"})
                    unknown.append(group_id)
            if unknown:
                return CheckResult(
                    False, f"scope group(s) not found in the tenant: {', '.join(unknown)}", {"step": "scope"}
                )
            return CheckResult(
                True,
                f"reached {settings.token_url} and {settings.graph}: users, groups"
                + (" and the application's assignments" if settings.scope_app_id else "")
                + " are readable",
                {"requests": client.sent},
            )


def graph_reader(
    settings: GraphSettings,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
) -> GraphReader:
    """The factory a registry of source kinds calls: a reader for one configured Graph source."""
    return GraphReader(settings, transport=transport, sleep=sleep)
