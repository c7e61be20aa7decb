"""Sources: where the directory's users and groups come from, beside Directory.

The list shows each source's kind, state (active, paused, failing with the error and what to do
next, reading), last read (when, full or delta, counts, duration, error) and next read (by the
scheduler's rule); a push source's base URL when its settings have one. A source's page has its
settings (secrets only as "set"), the actions of `enlist provisioning source …` (Test, Sync now,
settings, Pause/Resume, Remove with a confirmation) and its own log, newest first.

Every action calls the function the command calls (`enlist.provisioning.sources.operations`).
Sync now claims the source's lease in the request, as the scheduler's read does, so a click and
a running `serve` never read one source twice; the read itself then runs in the background of
this process (a large read outlives a request's deadline), in a context of its own so that the
request's deadline does not reach it, and the page follows it in the source's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.db.rows import now
from enlist.provisioning.api.app import service_of
from enlist.provisioning.operations import EXPECTED
from enlist.provisioning.sources import operations
from enlist.provisioning.sources.apply import RoundHeldError
from enlist.provisioning.sources.model import SourceUnavailableError
from enlist.provisioning.sources.read import SourceBusyError
from enlist.provisioning.sources.settings import SECRET_KEYS
from enlist.provisioning.sources.store import UnknownSourceError
from enlist.provisioning.web.common import form_of, is_htmx, query_params, site_of, text
from enlist.provisioning.web.sources_view import (
    DEFAULTS,
    next_read_text,
    read_counts,
    settings_fields,
    state_of,
)
from enlist.web.pages import ADMIN_PREFIX
from enlist.web.paging import PAGE_SIZE, decode_cursor, page_of

BASE = ADMIN_PREFIX + "/sources"
SOURCE = BASE + "/{source}"
FAILURES = (*EXPECTED, SourceBusyError, SourceUnavailableError, RoundHeldError)
ADDABLE = {"file": "Drop folder of HR files", "graph": "Microsoft Entra ID (Graph)"}
DONE = {
    "added": "Source added. It is read on its interval from now; Test it, or Sync now.",
    "sync": "Read started: it shows in the log below and changes the directory only once it has all of it.",
    "settings": "Settings saved.",
    "pause": "Paused: the source is not read on its interval (Sync now still reads it).",
    "resume": "Resumed: the source is read on its interval again, starting now.",
    "removed": "Source removed. Its users and groups stay in the directory, managed by hand.",
}


def source_url(name: str, page: str = "") -> str:
    return f"{BASE}/{quote(name, safe='')}" + (f"/{page}" if page else "")


def message_of(error: BaseException) -> str:
    """The error's own sentence, as the CLI prints it (a KeyError's without the quotes its str
    adds; others whole, since a message may end with a quoted value: `not 'soon'`)."""
    return str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)


def _flash(request: Request) -> str:
    return DONE.get(request.query_params.get("done", ""), "")


# Pages ----------------------------------------------------------------------------------------


async def _described(request: Request) -> dict[str, Any]:
    try:
        return await operations.describe(service_of(request), request.path_params["source"])
    except UnknownSourceError:
        raise HTTPException(404, f"There is no source named {request.path_params['source']!r}.") from None


async def list_page(request: Request) -> Response:
    sources = await operations.describe_all(service_of(request))
    moment = now()
    return site_of(request).render(
        request,
        "sources.html",
        page_title="Sources",
        flash=_flash(request),
        sources=[_source_values(d, moment) for d in sources],
    )


async def new_page(request: Request, *, status_code: int = 200, **values: Any) -> Response:
    kind = values.pop("kind", None) or request.query_params.get("kind", "file")
    values.setdefault("form", {})
    return site_of(request).render(
        request,
        "source_new.html",
        status_code=status_code,
        page_title="Add a source",
        kind=kind if kind in ADDABLE else "file",
        kinds=ADDABLE,
        defaults=DEFAULTS,
        error=values.pop("error", ""),
        **values,
    )


async def _upload_text(form: FormData, name: str) -> str | None:
    """An uploaded file's text, or None when no file was chosen."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    raw = await upload.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{upload.filename} is not a UTF-8 PEM file") from None


async def add(request: Request) -> Response:
    """Add source: the form's fields are `source add`'s options, checked by the same function;
    a bad form stores nothing and is shown again with the message."""
    fields = ("name", "kind", "path", "tenant_id", "client_id", "graph_url", "login_url", "credential")
    async with form_of(request) as form:
        values = {k: text(form, k) for k in fields}
        secret = text(form, "client_secret")
        try:
            certificate = await _upload_text(form, "certificate")
        except ValueError as exc:
            return await new_page(request, status_code=400, kind=values["kind"], form=values, error=str(exc))
    kind = values["kind"]
    try:
        if kind not in ADDABLE:
            raise ValueError(f"choose the kind of source: {', '.join(ADDABLE)}")
        by_certificate = values["credential"] == "certificate"
        settings, secrets = operations.new_source_settings(
            kind,
            path=values["path"],
            tenant_id=values["tenant_id"],
            client_id=values["client_id"],
            client_secret=None if by_certificate else secret,
            certificate=(certificate or "") if by_certificate else None,
            graph_url=values["graph_url"] or operations.GRAPH_URL,
            login_url=values["login_url"] or operations.LOGIN_URL,
        )
        added = await operations.add(service_of(request), values["name"], kind, settings, secrets)
    except FAILURES as exc:
        message = f"{message_of(exc)}. Nothing was added."
        return await new_page(request, status_code=400, kind=kind, form=values, error=message)
    return RedirectResponse(source_url(added.name) + "?done=added", status_code=303)


async def source_page(
    request: Request, *, status_code: int = 200, error: str = "", check: dict[str, Any] | None = None
) -> Response:
    described = await _described(request)
    after = decode_cursor(request.query_params.get("after"))
    before = after[0] if after and isinstance(after[0], int) else None
    entries = await operations.reads(service_of(request), described["name"], before, PAGE_SIZE + 1)
    log = page_of(entries, PAGE_SIZE, after is None, lambda e: [e.id])
    return site_of(request).render(
        request,
        "source.html",
        status_code=status_code,
        page_title=described["name"],
        **_source_values(described, now()),
        log=log,
        params=query_params(request, "after"),
        read_counts=read_counts,
        error=error,
        check=check,
        flash=_flash(request),
        fields=settings_fields(described),
        secret_keys=sorted(SECRET_KEYS) if described["kind"] == "graph" else [],
    )


def _source_values(described: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """What the list's row and the source's state block show of one source."""
    view = state_of(described)
    last = described["last_read"]
    return {
        "source": described,
        "url": source_url(described["name"]),
        "view": view,
        "next_text": next_read_text(described, moment),
        "counts": read_counts(last["counts"] if last["status"] == "ok" else None),
        "polling": view["badge"] == "running",
    }


async def status_fragment(request: Request) -> Response:
    """The state block alone, for htmx: it polls itself every 2 s while a read runs, and once the
    read has ended the whole page reloads (its log then shows the read)."""
    described = await _described(request)
    values = _source_values(described, now())
    if not values["polling"]:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return site_of(request).render(request, "source_status.html", **values)


# Actions --------------------------------------------------------------------------------------


async def test_source(request: Request) -> Response:
    """Test: reach the source with its credentials; the CheckResult's message, in place."""
    described = await _described(request)
    try:
        result = await operations.test(service_of(request), described["name"])
        check = {"ok": result.ok, "message": result.message}
    except FAILURES as exc:
        check = {"ok": False, "message": message_of(exc)}
    if is_htmx(request):
        return site_of(request).render(request, "source_check.html", check=check)
    return await source_page(request, check=check)


def running_reads(app: Starlette) -> set[asyncio.Task[Any]]:
    """The reads Sync now started in this process (kept, so they are not collected mid-read)."""
    reads: set[asyncio.Task[Any]] | None = getattr(app.state, "source_reads", None)
    if reads is None:
        reads = set()
        app.state.source_reads = reads
    return reads


async def stop_reads(app: Starlette) -> None:
    """At shutdown: stop the reads still running here (each records itself failed, applying
    nothing, and releases its lease)."""
    reads = running_reads(app)
    # One turn of the loop first: a task cancelled before its first step never runs its read, and
    # the lease its click claimed would stay held (and its log row running) until it expired.
    await asyncio.sleep(0)
    for task in reads:
        task.cancel()
    await asyncio.gather(*reads, return_exceptions=True)


async def _quietly(read: Any) -> None:
    # A failed read has recorded its failure in the source and its log; nobody awaits this task.
    with contextlib.suppress(Exception):
        await read


async def sync(request: Request) -> Response:
    described = await _described(request)
    async with form_of(request) as form:
        full, allow_deletes = bool(text(form, "full")), bool(text(form, "allow_deletes"))
    try:
        read = await operations.start_sync(
            service_of(request), described["name"], full=full, allow_deletes=allow_deletes
        )
    except FAILURES as exc:
        return await source_page(request, status_code=409, error=message_of(exc))
    # A context of its own: the request's deadline and its database turn must not follow the read.
    task = asyncio.create_task(_quietly(read), context=contextvars.Context())
    reads = running_reads(request.app)
    reads.add(task)
    task.add_done_callback(reads.discard)
    return RedirectResponse(source_url(described["name"]) + "?done=sync", status_code=303)


def changed_settings(form: FormData, described: dict[str, Any]) -> dict[str, str]:
    """The `source set` changes the form carries: only fields whose text differs from what is
    stored (so saving an untouched form changes nothing and keeps the next read a delta), a
    secret only when typed (empty keeps it), and the free KEY=VALUE row."""
    changes = {
        f["key"]: text(form, f["key"]).strip()
        for f in settings_fields(described)
        if f["key"] in form and text(form, f["key"]).strip() != f["value"]
    }
    key, value = text(form, "other_key").strip(), text(form, "other_value").strip()
    if key:
        changes[key] = value
    elif value:
        raise ValueError("give the setting's KEY for the value in the last row")
    return changes


async def save_settings(request: Request) -> Response:
    described = await _described(request)
    async with form_of(request) as form:
        try:
            changes = changed_settings(form, described)
            if secret := text(form, "client_secret"):
                changes["client_secret"] = secret
            if certificate := await _upload_text(form, "certificate"):
                changes["certificate"] = certificate
        except ValueError as exc:
            return await source_page(request, status_code=400, error=f"{exc}. Nothing was saved.")
    try:
        await operations.configure(service_of(request), described["name"], changes)
    except FAILURES as exc:
        return await source_page(request, status_code=400, error=f"{message_of(exc)}. Nothing was saved.")
    return RedirectResponse(source_url(described["name"]) + "?done=settings#settings", status_code=303)


async def change_state(request: Request) -> Response:
    described = await _described(request)
    command = request.url.path.rsplit("/", 1)[1]
    await operations.change_state(service_of(request), described["name"], command)
    return RedirectResponse(source_url(described["name"]) + f"?done={command}", status_code=303)


async def remove(request: Request) -> Response:
    """Remove, once the source's name is typed in the confirmation (so no stray click does)."""
    described = await _described(request)
    async with form_of(request) as form:
        typed = text(form, "confirm").strip()
    if typed != described["name"]:
        return await source_page(
            request,
            status_code=400,
            error=f"Type the source's name, {described['name']}, to remove it. Nothing was removed.",
        )
    try:
        await operations.remove(service_of(request), described["name"])
    except FAILURES as exc:
        return await source_page(request, status_code=400, error=message_of(exc))
    return RedirectResponse(BASE + "?done=removed", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route(BASE, list_page, methods=["GET"]),
        Route(BASE, add, methods=["POST"]),
        Route(BASE + "/new", new_page, methods=["GET"]),
        Route(SOURCE, source_page, methods=["GET"]),
        Route(SOURCE + "/status", status_fragment, methods=["GET"]),
        Route(SOURCE + "/test", test_source, methods=["POST"]),
        Route(SOURCE + "/sync", sync, methods=["POST"]),
        Route(SOURCE + "/settings", save_settings, methods=["POST"]),
        Route(SOURCE + "/pause", change_state, methods=["POST"]),
        Route(SOURCE + "/resume", change_state, methods=["POST"]),
        Route(SOURCE + "/remove", remove, methods=["POST"]),
    ]
