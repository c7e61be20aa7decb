"""The provisioning settings page shows and edits the notification settings: each kind on or
off, the quiet period and thresholds, the webhook URL, and a webhook secret that is sealed,
never shown, and kept when the field is left blank."""

from __future__ import annotations

from enlist.provisioning.notify import rule
from enlist.provisioning.store import apps as app_store
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import APP, APP_PATH, create_app, signed_in

FORM = {
    "scope": "assigned",
    "interval_minutes": "40",
    "dialect": "rfc",
    "max_concurrency": "4",
    "max_requests_per_second": "0",
    "timeout_seconds": "30",
    "notification_email": "ops@contoso.com",
    "deletion_threshold": "500",
    "log_retention_days": "30",
    "notify_quiet_minutes": "15",
    "notify_failure_percent": "25",
    "notify_source_failures": "2",
    "webhook_url": "https://hooks.example.test/enlist",
}


async def test_the_settings_page_edits_every_notification_setting_and_keeps_a_blank_secret(
    provisioning_site: Site,
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await create_app(site, csrf)
    page = await site.client.get(f"{APP_PATH}/provisioning")
    for kind in rule.KINDS:
        assert f'name="notify_{kind}"' in page.text, kind
    for name in ("notify_quiet_minutes", "notify_failure_percent", "notify_source_failures", "webhook_url"):
        assert f'name="{name}"' in page.text, name

    form = {**FORM, "csrf_token": csrf, "notify_quarantine": "1", "webhook_secret": "s3cret-value"}
    saved = await site.client.post(f"{APP_PATH}/provisioning/settings", data=form)
    assert saved.status_code == 303
    async with site.db.read() as conn:
        settings = (await app_store.get_app(conn, APP)).settings
    assert settings.notify_quarantine is True
    assert (
        settings.notify_staged_deletions,
        settings.notify_cycle_failures,
        settings.notify_source_failing,
    ) == (
        False,
        False,
        False,
    )
    assert (
        settings.notify_quiet_minutes,
        settings.notify_failure_percent,
        settings.notify_source_failures,
    ) == (
        15.0,
        25.0,
        2,
    )
    assert settings.webhook_url == "https://hooks.example.test/enlist"
    sealed = settings.webhook_secret
    assert sealed
    assert "s3cret-value" not in sealed, "stored sealed"
    assert "s3cret-value" not in (await site.client.get(f"{APP_PATH}/provisioning")).text

    again = await site.client.post(f"{APP_PATH}/provisioning/settings", data={**form, "webhook_secret": ""})
    assert again.status_code == 303
    async with site.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).settings.webhook_secret == sealed, "blank keeps it"
