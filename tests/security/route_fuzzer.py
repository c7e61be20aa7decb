"""A deterministic fuzzer over every route of an ASGI app, driven by the app's own route table
and by the forms its admin pages render.

`Fuzzer` crawls the signed-in admin pages (links give real path values, forms give the POST
fields a browser sends), then sends each route hostile values: in every path parameter, in
every query parameter the code reads (`QUERY_NAMES`), in every field of every form, and as
bodies. It records every answer of 500 or more, and which routes answered at all, so a test can
fail on a 5xx and on a route it never reached (a new route is in the route table, so it is
covered without changing the test).
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx2
import orjson
from starlette.routing import BaseRoute, Mount, Route

SEED = 20261207

# What a hostile client sends where a number, a word, a date or a cursor is expected.
VALUES: tuple[str, ...] = (
    "",
    " ",
    "0",
    "-1",
    "1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "9" * 400,
    "1e3",
    "1.5",
    "abc",
    "NaN",
    "١٢",
    "1_000",
    "Ωμέγα 😀",
    "a\x00b",
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "2026-11-27T09:00",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00+14:00",
    "success",
    "failure",
    "409",
    "[]",
    base64.urlsafe_b64encode(orjson.dumps([2**64 - 1])).decode().rstrip("="),
    base64.urlsafe_b64encode(b'["\\u0000", 1e308]').decode().rstrip("="),
    "%",
    "../../etc/passwd",
)
PATH_VALUES: tuple[str, ...] = ("x", "0", "-1", "99999999999999999999", "a\x00b", "Ωμέγα", "x" * 2000, "..")
BODIES: tuple[bytes, ...] = (
    b"{}",
    b"[]",
    b'"x"',
    b"[" * 5000,
    b"\xff\xfe",
    b'{"schemas": 1, "startIndex": 1e999}',
)
SKIP = {"HEAD"}  # Starlette answers HEAD with the GET endpoint


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _PageParser(HTMLParser):
    """The links and forms (including htmx `hx-post` elements) of one page."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._open: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.base, a["href"]))
        if tag == "form":
            method = a.get("method", "get").upper()
            self._open = Form(urljoin(self.base, a.get("action") or self.base), method)
            self.forms.append(self._open)
        for attribute in ("hx-post", "hx-get"):
            if a.get(attribute):
                hx = Form(urljoin(self.base, a[attribute]), attribute[3:].upper())
                if self._open is not None:
                    hx.fields = self._open.fields  # the same form's fields, as htmx sends them
                self.forms.append(hx)
        name = a.get("name")
        if self._open is None or not name:
            if tag == "option" and self._select and self._open is not None:
                self._open.fields.setdefault(self._select, a.get("value", ""))
            return
        if tag == "input" and a.get("type") != "file":
            self._open.fields.setdefault(name, a.get("value", ""))
        elif tag == "textarea":
            self._open.fields.setdefault(name, "")
        elif tag == "select":
            self._select = name

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None
        if tag == "select":
            self._select = None


@dataclass
class Findings:
    """What a run found: every 5xx, and the routes that answered."""

    server_errors: list[str] = field(default_factory=list)
    reached: set[tuple[str, str]] = field(default_factory=set)
    requests: int = 0


@dataclass
class Fuzzer:
    """Fuzz `routes` through `client` (a signed-in session). `path_values` gives real values of
    path parameters by name; `headers_for` the headers a path needs (a Bearer token for SCIM)."""

    client: httpx2.AsyncClient
    routes: list[BaseRoute]
    query_names: Iterable[str]
    path_values: dict[str, list[str]]
    headers_for: Callable[[str], dict[str, str]]
    home: str
    findings: Findings = field(default_factory=Findings)
    forms: list[Form] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)  # route template -> crawled paths

    def route_of(self, path: str) -> str | None:
        for route in self.routes:
            if isinstance(route, Route | Mount) and route.path_regex.match(path):
                return route.path
        return None

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        path = urlsplit(url).path
        headers = {**self.headers_for(path), **kwargs.pop("headers", {})}
        response = await self.client.request(method, url, headers=headers, **kwargs)
        self.findings.requests += 1
        if response.status_code >= 500:
            sent = repr(kwargs.get("data") or kwargs.get("params") or kwargs.get("content") or "")[:3000]
            self.findings.server_errors.append(f"{method} {url[:200]} {sent} -> {response.status_code}")
        refused = (response.status_code in (401, 403) and path != "/admin/login") or (  # the guard's
            response.status_code == 303 and "/admin/login?next=" in response.headers.get("location", "")
        )
        template = self.route_of(httpx2.URL(url).path)
        if template is not None and not refused:
            self.findings.reached.add((template, method))
        return response

    async def crawl(self, limit: int = 150) -> None:
        """Follow the admin pages' links from `home`; keep their forms and example paths."""
        seen: set[str] = set()
        queue = [self.home]
        while queue and len(seen) < limit:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            response = await self.send("GET", url)
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            parser = _PageParser(str(response.url))
            parser.feed(response.text)
            for form in parser.forms:
                if all(f.action != form.action or f.method != form.method for f in self.forms):
                    self.forms.append(form)
            for link in parser.links:
                split = urlsplit(link)
                if split.netloc not in ("", urlsplit(str(response.url)).netloc):
                    continue
                template = self.route_of(split.path)
                if template is not None:
                    self.examples.setdefault(template, [])
                    if split.path not in self.examples[template] and len(self.examples[template]) < 3:
                        self.examples[template].append(split.path)
                if split.path.startswith("/admin") and not split.path.endswith(
                    ("/logout", "/download", "/export")
                ):
                    queue.append(link.split("#")[0])

    def concrete_paths(self, route: Route, rng: random.Random) -> list[str]:
        """Real paths for `route` (crawled, or filled from `path_values`), then hostile ones."""
        found = list(self.examples.get(route.path, []))
        names = re.findall(r"{(\w+)(?::\w+)?}", route.path)
        real = {n: self.path_values.get(n, []) for n in names}
        if not found or any(real.values()):
            found.append(_fill(route.path, {n: (v[0] if v else "x") for n, v in real.items()}))
        for name in names:
            for hostile in rng.sample(PATH_VALUES, 3):
                values = {n: (v[0] if v else "x") for n, v in real.items()} | {name: hostile}
                found.append(_fill(route.path, values))
        return found

    async def fuzz_queries(self, route: Route, method: str, rng: random.Random, per_name: int) -> None:
        """`method` on the route's paths: bare, then each query name with `per_name` values."""
        paths = self.concrete_paths(route, rng)
        for path in paths:
            await self.send(method, path)
        base = paths[0]
        for name in self.query_names:
            for value in rng.sample(VALUES, per_name):
                await self.send(method, base, params={name: value})

    async def fuzz_bodies(self, route: Route, method: str, rng: random.Random) -> None:
        path = self.concrete_paths(route, rng)[0]
        for body in BODIES:
            await self.send(method, path, content=body, headers={"Content-Type": "application/scim+json"})

    async def fuzz_form(self, form: Form, csrf: str, rng: random.Random, per_field: int) -> None:
        """The form as the page fills it, then each field with `per_field` hostile values, then
        every field hostile at once (one request per value)."""
        defaults = {k: v for k, v in form.fields.items() if k != "csrf_token"}
        send = self.send
        await send("POST", form.action, data={**defaults, "csrf_token": csrf})
        for name in defaults:
            for value in rng.sample(VALUES, per_field):
                await send("POST", form.action, data={**defaults, name: value, "csrf_token": csrf})
        for value in VALUES:
            await send("POST", form.action, data={**dict.fromkeys(defaults, value), "csrf_token": csrf})
        await send(
            "POST",
            form.action,
            content=b"&".join(f"{quote(k)}=%FF%FE%00".encode() for k in defaults)
            + b"&csrf_token="
            + csrf.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )


def _fill(template: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        return quote(values.get(match.group(1), "x"), safe="")

    return re.sub(r"{(\w+)(?::\w+)?}", one, template)


def required(routes: list[BaseRoute]) -> set[tuple[str, str]]:
    """Every (route template, method) of the table, HEAD aside; a Mount as its GET."""
    wanted: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Route):
            wanted |= {(route.path, m) for m in route.methods or () if m not in SKIP}
        elif isinstance(route, Mount):
            wanted.add((route.path, "GET"))
    return wanted
