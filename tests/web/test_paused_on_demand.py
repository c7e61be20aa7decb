"""The Overview's Provision on demand obeys Pause: a paused application sends nothing."""

from __future__ import annotations

from enlist.provisioning.store import apps as app_store
from tests.counting_target import CountingScimTarget, counting_target
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import APP, APP_PATH, create_app, load_directory, signed_in

__all__ = ["counting_target"]  # a fixture, used by name


async def test_provision_on_demand_on_a_paused_application_is_refused_and_sends_nothing(
    provisioning_site: Site, counting_target: CountingScimTarget
) -> None:
    site = provisioning_site
    csrf = await signed_in(site)
    await load_directory(site.db)
    await create_app(site, csrf)
    connected = await site.client.post(
        f"{APP_PATH}/provisioning/connect",
        data={"csrf_token": csrf, "tenant_url": counting_target.tenant_url, "secret_token": "counting"},
    )
    assert connected.status_code == 303
    assert (await site.client.post(f"{APP_PATH}/pause", data={"csrf_token": csrf})).status_code == 303
    counting_target.requests.clear()

    refused = await site.client.post(
        f"{APP_PATH}/provision-on-demand", data={"csrf_token": csrf, "upn": "user2@contoso.com"}
    )

    assert refused.status_code == 400
    assert f"{APP} is paused" in refused.text
    assert "start provisioning first" in refused.text
    assert counting_target.requests == []
    async with site.db.read() as conn:
        assert (await app_store.get_app(conn, APP)).state == "paused"
