"""The `provisioning_url` that `enlist provisioning app create|show|list --json` print is the
application's page on the admin site: it answers 200 for a signed-in admin."""

from __future__ import annotations

from urllib.parse import urlsplit

import anyio
import orjson
from click.testing import CliRunner

from enlist.cli import main
from enlist.provisioning.service import Service
from tests.web.conftest import Site
from tests.web.provisioning_fixtures import signed_in


def _cli(service: Service, *args: str) -> bytes:
    env = {
        "ENLIST_DATA_DIR": str(service.settings.data_dir),
        "ENLIST_PROVISIONING_DATABASE_URL": str(service.settings.provisioning_database_url),
        "ENLIST_PROVISIONING_PUBLIC_URL": "http://provisioning.test",
    }
    result = CliRunner().invoke(main, ["provisioning", "app", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


async def test_the_printed_provisioning_url_answers_200_for_a_signed_in_admin(
    provisioning_site: Site, service: Service
) -> None:
    await signed_in(provisioning_site)
    name = "Learning portal & ünïcode?"
    created = orjson.loads(await anyio.to_thread.run_sync(lambda: _cli(service, "create", name, "--json")))
    shown = orjson.loads(await anyio.to_thread.run_sync(lambda: _cli(service, "show", name, "--json")))
    listed = orjson.loads(await anyio.to_thread.run_sync(lambda: _cli(service, "list", "--json")))
    urls = {created["provisioning_url"], shown["provisioning_url"], listed[0]["provisioning_url"]}
    assert len(urls) == 1
    url = urlsplit(urls.pop())
    assert f"{url.scheme}://{url.netloc}" == "http://provisioning.test"
    page = await provisioning_site.client.get(url.path)
    assert page.status_code == 200, url.path
    assert "Overview" in page.text
