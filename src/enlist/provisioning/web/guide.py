"""The first-run guide on the Overview of the application `make run` (`enlist demo`) creates: what
the demo just did, in numbers, with a link to the page that shows each part.

Shown only while the application is the demo's own: named as the demo names it and connected to
the demo tenant of the portal this service was started with. An application an admin creates,
or the demo application connected elsewhere, never shows it. (No "dismiss" state: that would be
a column and a migration for a page that a real deployment never shows.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from enlist.cli.demo import DEMO_APP, DEMO_TENANT
from enlist.provisioning.store.apps import App


@dataclass(frozen=True, slots=True)
class FirstRun:
    """What the demo's initial cycle did (None counts when it has not finished yet)."""

    portal_users_url: str
    created: int | None
    skipped: int | None
    failed: int | None


def is_demo(app: App, lms_public_url: str) -> bool:
    """The application is the one `enlist demo` created and connected on this machine."""
    return app.name == DEMO_APP and app.tenant_url == f"{lms_public_url.rstrip('/')}/scim/v2/{DEMO_TENANT}"


def first_run(app: App, lms_public_url: str, recent_cycles: Sequence[Mapping[str, Any]]) -> FirstRun | None:
    """The guide's facts for the demo application, or None for any other one."""
    if not is_demo(app, lms_public_url):
        return None
    initial = next(
        (
            c
            for c in recent_cycles
            if c["kind"] == "initial" and c["status"] != "running" and c.get("summary")
        ),
        None,
    )
    counts = initial["summary"] if initial else {}
    base = lms_public_url.rstrip("/")
    return FirstRun(
        portal_users_url=f"{base}/admin/tenants/{DEMO_TENANT}/users",
        created=counts.get("created") if initial else None,
        skipped=counts.get("skipped") if initial else None,
        failed=counts.get("failed") if initial else None,
    )
