"""The provisioning sender: the shared sender (`enlist.notify.sender`, ADR 0025) over the
provisioning outbox. Run by every `enlist provisioning serve` process's scheduler loop (and by
`notify send`)."""

from __future__ import annotations

from functools import partial

from enlist.notify.sender import MAX_ATTEMPTS, Outbox, Outcome, retry_after
from enlist.notify.sender import send_due as send_outbox
from enlist.provisioning.notify.delivery import deliver
from enlist.provisioning.notify.tables import notification_attempts, notification_outbox
from enlist.provisioning.service import Service

__all__ = ["MAX_ATTEMPTS", "Outcome", "outbox_of", "retry_after", "send_due"]


def outbox_of(service: Service) -> Outbox:
    return Outbox(
        service.db,
        notification_outbox,
        notification_attempts,
        partial(deliver, settings=service.settings, secrets=service.secrets),
        service.secrets.open,
    )


async def send_due(
    service: Service, *, ids: list[int] | None = None, owner: str | None = None
) -> list[Outcome]:
    """Deliver the due pending notifications (or those of `ids`, due or not) that no live sender
    holds; what became of each."""
    return await send_outbox(outbox_of(service), ids=ids, owner=owner)
