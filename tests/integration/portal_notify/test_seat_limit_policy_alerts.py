"""A new `seat_limit` tells at once, whichever front end saves it (`enlist lms tenant set`, the
policy API, the policy document's import): lowered to or below the active users it raises the
seat-limit alert, raised above them it recovers it, in the transaction of the save. One mail
arrives at the real SMTP server for each, once. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from click.testing import CliRunner

from enlist.api_tokens import store as token_store
from enlist.cli import main
from enlist.lms.api.runtime import Portal
from enlist.lms.api_tokens import api_tokens
from enlist.lms.notify import operations
from enlist.lms.notify.sending import send_due
from tests.conftest import TEST_PEPPER
from tests.helpers import ScimTenant
from tests.integration.notify.conftest import Mailbox
from tests.integration.portal_notify.conftest import SEATS, set_seats
from tests.integration.portal_notify.test_seat_limit_alerts import outbox_rows, post_user, subjects

SetLimit = Callable[[Portal, ScimTenant, str], Awaitable[None]]


async def by_cli(portal: Portal, t: ScimTenant, limit: str) -> None:
    env = {
        "ENLIST_DATA_DIR": str(portal.settings.data_dir),
        "ENLIST_LMS_DATABASE_URL": portal.settings.lms_url(),
        "ENLIST_TOKEN_PEPPER": TEST_PEPPER,
    }
    args = ["lms", "tenant", "set", t.tenant.slug, f"seat_limit={limit}"]
    result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(main, args, env=env))
    assert result.exit_code == 0, result.output


async def _writer(portal: Portal) -> dict[str, str]:
    async with portal.db.write() as conn:
        found = [t.name for t in await token_store.list_tokens(conn, api_tokens)]
        if "writer" in found:
            await token_store.revoke(conn, api_tokens, "writer")
        minted = await token_store.create(
            conn, api_tokens, portal.peppers.current, name="writer", scope="write", expires_at=None
        )
    return {"Authorization": f"Bearer {minted.token}"}


async def by_policy_api(portal: Portal, t: ScimTenant, limit: str) -> None:
    answer = await t.http.patch(
        f"/api/v1/tenants/{t.tenant.slug}/policies",
        json={"seat_limit": limit},
        headers=await _writer(portal),
    )
    assert answer.status_code == 200, answer.text


async def by_policy_document(portal: Portal, t: ScimTenant, limit: str) -> None:
    headers = await _writer(portal)
    path = f"/api/v1/tenants/{t.tenant.slug}/policy-document"
    document = (await t.http.get(f"{path}?format=json", headers=headers)).json()
    document["policies"]["seat_limit"] = int(limit) if limit else None
    answer = await t.http.put(path, json=document, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] is True


FRONT_ENDS = {"cli": by_cli, "policy api": by_policy_api, "policy document": by_policy_document}


@pytest.fixture(params=sorted(FRONT_ENDS))
def set_limit(request: pytest.FixtureRequest) -> SetLimit:
    return FRONT_ENDS[request.param]


async def test_lowering_the_limit_to_the_active_users_mails_reached_once_and_raising_it_mails_recovered(
    alerting: Portal, seated: ScimTenant, mailbox: Mailbox, set_limit: SetLimit
) -> None:
    await set_seats(alerting, seated, SEATS + 5)
    for n in range(SEATS):
        assert await post_user(seated, n) == 201
    assert await outbox_rows(alerting) == []

    await set_limit(alerting, seated, str(SEATS))  # no SCIM write follows: the save tells
    raised = await outbox_rows(alerting)
    await send_due(alerting.db, alerting.settings)
    assert await send_due(alerting.db, alerting.settings) == [], "delivered is final"
    mails_after_lowering = len(mailbox.messages)
    await set_limit(alerting, seated, str(SEATS - 1))  # lower still: already raised, silent
    await set_limit(alerting, seated, str(SEATS + 1))  # a seat free again
    await send_due(alerting.db, alerting.settings)

    assert [(r["event"], r["channel"]) for r in raised] == [("raised", "email"), ("raised", "webhook")]
    assert raised[0]["payload"]["details"] == {"seats_used": SEATS, "seat_limit": SEATS}
    assert mails_after_lowering == 1
    assert len(mailbox.messages) == 2
    assert "seat limit reached" in subjects(mailbox)[0]
    assert "seat limit recovered" in subjects(mailbox)[1]
    events = [(r["event"], r["channel"]) for r in await outbox_rows(alerting)]
    assert events == [
        ("raised", "email"),
        ("raised", "webhook"),
        ("recovered", "email"),
        ("recovered", "webhook"),
    ]


async def test_removing_the_limit_recovers_the_alert_so_the_next_limit_reached_is_told_again(
    alerting: Portal, seated: ScimTenant, mailbox: Mailbox
) -> None:
    """Without the clear, the condition would stay raised and the next limit's alert be silent."""
    await operations.configure(alerting, seated.tenant, {"quiet_minutes": "0"})
    for n in range(SEATS):
        assert await post_user(seated, n) == 201  # fills the limit: raised
    await by_cli(alerting, seated, "")  # no limit any more
    await by_cli(alerting, seated, str(SEATS))  # reached again
    await send_due(alerting.db, alerting.settings)

    events = [r["event"] for r in await outbox_rows(alerting) if r["channel"] == "email"]
    assert events == ["raised", "recovered", "raised"]
    assert len(mailbox.messages) == 3


async def test_a_policy_save_that_leaves_the_limit_alone_writes_no_notification(
    alerting: Portal, seated: ScimTenant
) -> None:
    await set_seats(alerting, seated, SEATS + 5)
    for n in range(SEATS):
        assert await post_user(seated, n) == 201
    await set_seats(alerting, seated, SEATS)  # underneath the operations: nothing told yet

    await by_cli(alerting, seated, str(SEATS))  # the same value: not a change
    await by_policy_api(alerting, seated, str(SEATS))

    assert await outbox_rows(alerting) == []
