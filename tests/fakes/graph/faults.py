"""Fault injection and the request recorder of the fake (graph-source.md §8.4).

A rule says "the Nth call to route R gets F" (or every call from N on, `times` times). Routes
are the names `app.route_of` gives: token, users, user, manager, users_delta, groups, group,
members, groups_delta, service_principals, assigned_to, batch, deleted_items, users_count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Fault:
    """`status` answers with that status (429/503/504/... with Graph's error body), `reset`
    drops the connection before any header, `revoke` forgets every issued token and answers
    401 InvalidAuthenticationToken, `expire_cursor`/`reset_cursor` answer a delta link with 400
    syncStateNotFound or 410 Gone + Location, `headers` answers normally with `headers` added
    (`x-ms-throttle-limit-percentage`, `x-ms-resource-unit`)."""

    kind: Literal["status", "reset", "revoke", "expire_cursor", "reset_cursor", "headers"] = "status"
    status: int = 503
    retry_after: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Rule:
    route: str
    call: int
    fault: Fault
    times: int = 1


@dataclass(frozen=True)
class Recorded:
    route: str
    method: str
    url: str
    host: str
    headers: dict[str, str]
    peer: tuple[str, int] | None = None  # the client's address: a new port is a new connection


@dataclass
class Faults:
    rules: list[Rule] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)

    def add(self, route: str, fault: Fault, *, call: int | None = None, times: int = 1) -> None:
        """Inject `fault` on the `call`-th request to `route` from now on (default: the next one)."""
        start = self.calls.get(route, 0) + 1 if call is None else call
        self.rules.append(Rule(route, start, fault, times))

    def clear(self) -> None:
        self.rules.clear()

    def next_for(self, route: str) -> Fault | None:
        n = self.calls.get(route, 0) + 1
        self.calls[route] = n
        for rule in self.rules:
            if rule.route == route and rule.call <= n < rule.call + rule.times:
                return rule.fault
        return None
