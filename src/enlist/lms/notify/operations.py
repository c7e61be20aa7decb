"""What `enlist lms notify …` does: set and show a tenant's notification settings, send a test
notification now, reseal the webhook secrets under a new key."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from enlist.db.rows import now
from enlist.lms.api.runtime import Portal
from enlist.lms.domain.tenants import Tenant
from enlist.lms.notify import alerts, tables
from enlist.lms.notify.alerts import KINDS, NotificationSettings
from enlist.lms.notify.sending import send_due
from enlist.notify.sender import Outcome
from enlist.secretbox import load_secret_box

MAX_QUIET_MINUTES = 525_600  # a year, as the provisioning setting
KEYS = ("email", "webhook_url", "webhook_secret", "quiet_minutes", *KINDS)


class NotificationSettingError(ValueError):
    """A `key=value` that `enlist lms notify set` cannot apply; the message says why."""


def applied(
    current: NotificationSettings, changes: dict[str, str], seal: Callable[[str], str]
) -> NotificationSettings:
    """`current` with `changes` (`email=…`, `webhook_url=…`, `webhook_secret=…`, `quiet_minutes=…`,
    `seat_limit=on|off`); an empty value unsets a channel. `seal` seals the webhook secret."""
    chosen = current
    for key, value in changes.items():
        text = value.strip()
        if key == "email":
            if text and "@" not in text:
                raise NotificationSettingError(f"email={text!r} is not an email address")
            chosen = replace(chosen, email=text or None)
        elif key == "webhook_url":
            if text and not text.startswith(("https://", "http://")):
                raise NotificationSettingError(f"webhook_url={text!r} is not an http(s) URL")
            chosen = replace(chosen, webhook_url=text or None)
        elif key == "webhook_secret":
            chosen = replace(chosen, webhook_secret=seal(text) if text else None)
        elif key == "quiet_minutes":
            try:
                minutes = float(text)
            except ValueError:
                minutes = math.nan
            if not 0 <= minutes <= MAX_QUIET_MINUTES:
                raise NotificationSettingError(
                    f"quiet_minutes={text!r} is not a number of minutes (0 to 525600)"
                )
            chosen = replace(chosen, quiet_minutes=minutes)
        elif key in KINDS:
            if text not in ("on", "off"):
                raise NotificationSettingError(f"{key}={text!r}: say on or off")
            off = chosen.kinds_off - {key} if text == "on" else chosen.kinds_off | {key}
            chosen = replace(chosen, kinds_off=frozenset(off))
        else:
            raise NotificationSettingError(f"no setting {key!r}; the settings are {', '.join(KEYS)}")
    return chosen


def shown(tenant: Tenant, chosen: NotificationSettings) -> dict[str, Any]:
    """The settings as `show` prints them: the webhook secret is never printed back."""
    return {
        "tenant": tenant.slug,
        "email": chosen.email,
        "webhook_url": chosen.webhook_url,
        "webhook_secret": "(set)" if chosen.webhook_secret else None,
        "quiet_minutes": chosen.quiet_minutes,
        "kinds": {kind: kind not in chosen.kinds_off for kind in KINDS},
    }


async def configure(portal: Portal, tenant: Tenant, changes: dict[str, str]) -> NotificationSettings:
    secrets = load_secret_box(portal.settings)
    async with portal.db.write() as conn:
        current = await alerts.load(conn, tenant.id) or NotificationSettings()
        chosen = applied(current, changes, secrets.seal)
        await alerts.save(conn, tenant.id, chosen, now())
    return chosen


async def current(portal: Portal, tenant: Tenant) -> NotificationSettings:
    async with portal.db.read() as conn:
        return await alerts.load(conn, tenant.id) or NotificationSettings()


async def send_test(portal: Portal, tenant: Tenant) -> list[Outcome]:
    """Write a test notification to each of the tenant's channels and deliver it now (through the
    outbox: a failed attempt is retried by `serve`'s sender)."""
    async with portal.db.write() as conn:
        chosen = await alerts.load(conn, tenant.id)
        note = {"note": "a test sent by an admin"}
        ids = await alerts.enqueue(conn, tenant, chosen, "test", "test", note, now()) if chosen else []
    if not ids:
        raise NotificationSettingError(
            f"{tenant.slug} has nowhere to send to: set email or webhook_url first "
            f"(enlist lms notify set {tenant.slug} email=…)"
        )
    return await send_due(portal.db, portal.settings, ids=ids)


async def reseal_secrets(portal: Portal) -> int:
    """Seal every tenant's webhook secret, and every pending notification's copy of it, under
    the current key (`ENLIST_SECRET_KEY`), in one transaction: all or nothing, as
    `enlist provisioning reseal-secrets`. How many secrets were resealed."""
    secrets = load_secret_box(portal.settings)
    count = 0
    async with portal.db.write() as conn:
        for table, key, column in (
            (tables.settings, tables.settings.c.tenant_id, tables.settings.c.webhook_secret),
            (tables.outbox, tables.outbox.c.id, tables.outbox.c.sealed_secret),
        ):
            rows = (await conn.execute(sa.select(key, column).where(column.is_not(None)))).all()
            for ident, sealed in rows:
                await conn.execute(
                    table.update().where(key == ident).values({column.name: secrets.reseal(sealed)})
                )
                count += 1
    return count
