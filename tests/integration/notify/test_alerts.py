"""Each alert kind, triggered for real, reaches the test SMTP server and the webhook receiver
exactly once; the quiet period holds against a flapping target; a kind turned off sends nothing.

The engine runs against the real portal (in process); a source reads a real folder."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx2
import pytest

from enlist.lms.api.app import create_app
from enlist.lms.api.runtime import Portal
from enlist.provisioning import operations as app_operations
from enlist.provisioning.engine.runner import run_cycle
from enlist.provisioning.engine.scheduler import scheduler_loop
from enlist.provisioning.notify.sender import send_due
from enlist.provisioning.service import Service
from enlist.provisioning.sources import operations as source_operations
from enlist.provisioning.sources.model import SourceUnavailableError
from enlist.provisioning.sources.read import read_source
from enlist.provisioning.target.client import ScimTarget
from tests.e2e.engine_harness import TENANT_URL, Harness, assign_groups, harness
from tests.e2e.fault_proxy import FaultProxy, creating
from tests.e2e.test_engine_lifecycle import company, set_settings, unassign_groups, upn
from tests.integration.notify.conftest import Mailbox, WebhookReceiver
from tests.integration.notify.helpers import configure, mail_events, webhook_events

RAISED = "quarantine needs attention"
RECOVERED = "quarantine recovered"


async def _provisioned(portal: Portal, service: Service, webhook: WebhookReceiver, **extra: str) -> Harness:
    h = await harness(portal, service)
    await h.load(company(8, {"Alpha": range(4), "Leavers": range(4, 8)}))
    await assign_groups(h, "Alpha", "Leavers")
    await configure(service, h.app_name, webhook, **extra)
    first, _ = await h.sync()
    assert first.status == "succeeded", first
    return h


async def _refused_credentials(h: Harness) -> None:
    """A cycle against the portal with a Secret token it does not know: quarantined at once."""
    async with ScimTarget(TENANT_URL, "not-the-token", transport=h.transport()) as target:
        summary = await run_cycle(h.service, await h.app(), target=target)
    assert summary.status == "failed"
    assert (await h.app()).state == "quarantined"


async def test_quarantine_entered_and_left_is_mailed_and_posted_once_each(
    portal: Portal, notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    h = await _provisioned(portal, notifying, webhook)
    assert await send_due(notifying) == [], "a healthy cycle notifies nobody"

    await _refused_credentials(h)
    await _refused_credentials(h)  # still quarantined: told once
    sent = await send_due(notifying)
    assert [o.status for o in sent] == ["sent", "sent"]
    assert mail_events(mailbox, h.app_name) == [RAISED]
    assert webhook_events(webhook) == [("quarantine", "raised")]

    recovered, _ = await h.sync()
    assert recovered.status == "succeeded"
    assert (await h.app()).state == "active"
    await send_due(notifying)
    await send_due(notifying)  # nothing left to send twice
    assert mail_events(mailbox, h.app_name) == [RAISED, RECOVERED]
    assert webhook_events(webhook) == [("quarantine", "raised"), ("quarantine", "recovered")]
    assert mailbox.messages[0]["To"] == "ops@example.test"
    assert len({m["Message-ID"] for m in mailbox.messages}) == 2


async def test_a_flapping_target_sends_one_notification_and_its_recovery_per_quiet_period(
    portal: Portal, notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    h = await _provisioned(portal, notifying, webhook)  # the default quiet period: 60 minutes
    for _ in range(5):
        await _refused_credentials(h)
        await h.sync()
    await send_due(notifying)

    assert mail_events(mailbox, h.app_name) == [RAISED, RECOVERED]
    assert webhook_events(webhook) == [("quarantine", "raised"), ("quarantine", "recovered")]


async def test_without_a_quiet_period_every_flap_is_told(
    portal: Portal, notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    h = await _provisioned(portal, notifying, webhook, **{"notify.quiet_minutes": "0"})
    for _ in range(3):
        await _refused_credentials(h)
        await h.sync()
    await send_due(notifying)

    assert mail_events(mailbox, h.app_name) == [RAISED, RECOVERED] * 3
    assert len(webhook.received) == 6


async def test_staged_deletions_over_the_threshold_are_told_and_a_kind_turned_off_is_not(
    portal: Portal, notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    h = await _provisioned(portal, notifying, webhook, **{"notify.quarantine": "off"})
    await set_settings(h, deletion_threshold=3)
    await unassign_groups(h, "Leavers")
    staged, _ = await h.sync()
    assert staged.too_many_deletes
    assert (await h.app()).state == "quarantined"
    await h.sync()  # still staged: told once
    await send_due(notifying)

    assert mail_events(mailbox, h.app_name) == ["staged deletions needs attention"]
    assert webhook_events(webhook) == [("staged_deletions", "raised")]
    body = mailbox.messages[0].get_payload()
    assert "staged: 5" in str(body)  # the 4 leavers and their group
    assert "threshold: 3" in str(body)


async def test_a_cycle_failing_more_than_the_set_share_is_told(
    portal: Portal, notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    h = await harness(portal, notifying)
    await h.load(company(8, {"Alpha": range(8)}))
    await assign_groups(h, "Alpha")
    await configure(notifying, h.app_name, webhook, **{"notify.failure_percent": "15"})
    proxy = FaultProxy(create_app(portal.settings, portal))
    proxy.add(
        creating("Users", upn(0), upn(1)), "status", status=400
    )  # 2 failed of 10 processed (7 created, the group updated)
    try:
        async with ScimTarget(TENANT_URL, h.token, transport=httpx2.ASGITransport(app=proxy)) as target:
            summary = await run_cycle(notifying, await h.app(), target=target)
    finally:
        await proxy.aclose()
    assert summary.counts["failed"] == 2, summary
    await send_due(notifying)

    assert mail_events(mailbox, h.app_name) == ["cycle failures needs attention"]
    assert webhook_events(webhook) == [("cycle_failures", "raised")]
    assert "failed_percent: 20.0" in str(mailbox.messages[0].get_payload())


async def test_a_source_failing_repeatedly_is_told_once_then_its_recovery(
    notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver, tmp_path: Path
) -> None:
    await app_operations.create(notifying, "Watcher")
    await configure(notifying, "Watcher", webhook, **{"notify.source_failures": "3"})
    folder = tmp_path / "drop"  # not there yet: every read fails
    await source_operations.add(notifying, "hr", "file", {"path": str(folder)}, {})
    for _ in range(5):
        with pytest.raises(SourceUnavailableError, match="is not a folder"):
            await read_source(notifying, await source_operations.get(notifying, "hr"))
    await send_due(notifying)
    assert mail_events(mailbox, "Watcher") == ["source failing needs attention"]
    assert "failures_in_a_row: 3" in str(mailbox.messages[0].get_payload())

    folder.mkdir()
    await read_source(notifying, await source_operations.get(notifying, "hr"))
    await read_source(notifying, await source_operations.get(notifying, "hr"))
    await send_due(notifying)
    assert mail_events(mailbox, "Watcher") == ["source failing needs attention", "source failing recovered"]
    assert webhook_events(webhook) == [("source_failing", "raised"), ("source_failing", "recovered")]


async def test_the_serve_scheduler_loop_delivers_what_a_cycle_raised(
    portal: Portal, notifying: Service, mailbox: Mailbox, webhook: WebhookReceiver
) -> None:
    h = await _provisioned(portal, notifying, webhook)
    await _refused_credentials(h)
    loop = asyncio.create_task(scheduler_loop(notifying, poll_seconds=0.05))
    try:
        for _ in range(400):  # bounded: at most ~20 s
            if len(mailbox.messages) == 1 and len(webhook.received) == 1:
                break
            await asyncio.sleep(0.05)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert mail_events(mailbox, h.app_name) == [RAISED]
    assert webhook_events(webhook) == [("quarantine", "raised")]
