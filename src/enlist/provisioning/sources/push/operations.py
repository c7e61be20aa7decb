"""What an admin does to a push source, whichever front end they use: add it (its first token),
rotate its token, test it (its endpoint, its token, its last push) and what `sync` means for it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from enlist.db.rows import now
from enlist.provisioning.service import Service
from enlist.provisioning.sources import store as source_store
from enlist.provisioning.sources.apply import COUNT_KEYS
from enlist.provisioning.sources.model import CheckResult
from enlist.provisioning.sources.push import tokens
from enlist.provisioning.sources.push.routes import base_url
from enlist.provisioning.sources.push.tables import push_bulk_jobs
from enlist.provisioning.sources.store import Source

DEFAULT_OVERLAP_MINUTES = 60


async def add(service: Service, name: str) -> dict[str, str]:
    """`source add NAME --kind scim-push`: the source, with its first token (shown once)."""
    token, sealed = tokens.mint({}, now(), None)
    async with service.db.write() as conn:
        source = await source_store.create_source(
            conn, name, "scim-push", {}, service.secrets.seal(json.dumps(sealed))
        )
        # Never read on an interval: it has nothing to read.
        await source_store.update_source(conn, source.id, next_read_at=None)
    return {"name": source.name, "base_url": base_url(service, source.name), "token": token}


async def _push_source(conn: Any, name: str) -> Source:
    found = await source_store.get_source(conn, name)
    if found.kind != "scim-push":
        raise ValueError(f"{found.name} is a {found.kind} source, not a push source: it has no token")
    return found


async def rotate_token(service: Service, name: str, overlap_minutes: int) -> dict[str, Any]:
    """A new token (shown once); the older ones work `overlap_minutes` more (0: stop at once)."""
    if overlap_minutes < 0:
        raise ValueError("--overlap-minutes is 0 or more")
    async with service.db.write() as conn:
        found = await _push_source(conn, name)
        sealed = json.loads(service.secrets.open(found.sealed_secrets)) if found.sealed_secrets else {}
        moment = now()
        token, kept = tokens.mint(sealed, moment, timedelta(minutes=overlap_minutes))
        await source_store.update_source(conn, found.id, secrets=service.secrets.seal(json.dumps(kept)))
    ends = (moment + timedelta(minutes=overlap_minutes)).isoformat() if overlap_minutes else None
    return {
        "name": found.name,
        "base_url": base_url(service, found.name),
        "token": token,
        "previous_tokens_until": ends,
    }


async def check(service: Service, source: Source) -> CheckResult:
    """`source test` of a push source: its endpoint, its tokens, its last push and bulk uploads."""
    sealed = json.loads(service.secrets.open(source.sealed_secrets)) if source.sealed_secrets else {}
    state = tokens.state(sealed, now())
    async with service.db.read() as conn:
        j = push_bulk_jobs.c
        waiting = (
            await conn.execute(
                sa.select(sa.func.count()).where((j.source == source.id) & (j.state != "done"))
            )
        ).scalar_one()
    details = {
        "base_url": base_url(service, source.name),
        "state": source.state,
        **state,
        "last_push": {
            "at": source.last_finished_at.isoformat() if source.last_finished_at else None,
            "counts": source.last_counts,
        },
        "bulk_uploads_not_done": int(waiting),
    }
    if not state["usable_tokens"]:
        return CheckResult(
            False,
            f"{source.name} has no usable token: `source rotate-token {source.name}` mints one",
            details,
        )
    last = details["last_push"]["at"] or "never"
    return CheckResult(
        True,
        f"{source.name} takes pushes at {details['base_url']} ({state['usable_tokens']} usable token(s); "
        f"last push: {last}; bulk uploads not done yet: {waiting})",
        details,
    )


def sync_answer(service: Service, source: Source) -> dict[str, Any]:
    """`source sync` of a push source: nothing to read, and what to do instead."""
    return {
        "source": source.name,
        "kind": "none",
        **dict.fromkeys(COUNT_KEYS, 0),
        "duration_s": 0.0,
        "read": False,
        "message": (
            f"{source.name} is a push source: there is nothing to read. Its clients write into it at "
            f"{base_url(service, source.name)} (/Users, /Groups, /bulkUpload), and each write is in the "
            "directory as soon as it is answered. `source test` shows its last push; a target gets the "
            "changes through its next incremental cycle."
        ),
    }
