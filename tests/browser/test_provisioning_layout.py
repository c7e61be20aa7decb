"""Every page of the provisioning admin site, found from its routes, laid out at 1280 px (a
laptop), 390 px (a phone) and 1920 px (a wide screen) on the demo `make run` creates: no sideways scroll of the page, no
control out of reach, no console error or CSP refusal, and table rows aligned."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, ConsoleMessage
from starlette.routing import Route

from enlist.provisioning.web.logs import TABS
from enlist.provisioning.web.site import build_site, routes
from tests.browser.demo_site import DemoSite, SignedIn, run_demo, sign_in_client
from tests.browser.layout_checks import layout_problems, misaligned_rows

WIDTHS = {"laptop": (1280, 800), "phone": (390, 844), "wide": (1920, 1080)}
PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    yield from run_demo(tmp_path_factory.mktemp("demo") / "var")


@pytest.fixture(scope="module")
def pages(demo: DemoSite) -> list[str]:
    """Every GET route of the site that answers a whole HTML page, with its path parameters filled
    from the demo's data (a skipped and a created log record, each tab of a record's detail)."""
    signed = sign_in_client(demo)
    values = parameter_values(demo, signed)
    found: list[str] = []
    unfilled: list[str] = []
    for route in routes(build_site()):
        if not isinstance(route, Route) or "GET" not in (route.methods or set()):
            continue
        paths = fill(route.path, values)
        if not paths:
            unfilled.append(route.path)
        for path in paths:
            answer = signed.client.get(path)
            if answer.status_code in (204, 302, 303, 307):
                continue  # an empty fragment, or a redirect to a page that is itself a route
            assert answer.status_code == 200, (path, answer.status_code)
            if "text/html" in answer.headers["content-type"] and "<html" in answer.text[:200]:
                found.append(path)  # fragments (htmx) and downloads are parts of pages, not pages
    signed.client.close()
    assert unfilled == [], f"routes whose path parameters the test cannot fill: {unfilled}"
    return found


def parameter_values(demo: DemoSite, signed: SignedIn) -> dict[str, list[str]]:
    app = quote(demo.info["application"], safe="")
    base = f"/admin/apps/{app}"
    skipped = signed.links(f"{base}/logs?status=skipped", rf"{re.escape(base)}/logs/(\d+)")[:1]
    done = signed.links(f"{base}/logs?status=success", rf"{re.escape(base)}/logs/(\d+)")[:1]
    assert skipped, "the demo's cycle logs skipped records (people in unassigned groups)"
    assert done, "the demo's cycle logs created records"
    records = [f"{r}?tab={t}" for r in skipped + done for t in TABS]
    return {
        "app": [app],
        "record": records,
        "id": [],  # filled per route below: a user's id differs from a group's
        "source": signed.links("/admin/sources", r'href="/admin/sources/([^"/?]+)"')[:1],
        "users": signed.links("/admin/directory/users", r'href="/admin/directory/users/([^"/?]+)"')[:1],
        "groups": signed.links("/admin/directory/groups", r'href="/admin/directory/groups/([^"/?]+)"')[:1],
    }


def fill(path: str, values: dict[str, list[str]]) -> list[str]:
    """The route's path with every combination of known values for its parameters."""
    names = PARAMETER.findall(path)
    if "id" in names:  # /admin/directory/{users|groups}/{id}
        kind = path.split("/")[3]
        values = {**values, "id": values[kind]}
    paths = [path]
    for name in names:
        paths = [re.sub(r"\{" + name + r"(?::\w+)?\}", v, p, count=1) for p in paths for v in values[name]]
    return paths


@pytest.mark.parametrize("device", WIDTHS)
def test_every_provisioning_page_fits_the_screen_without_errors(
    browser: Browser, demo: DemoSite, pages: list[str], device: str, tmp_path: Path
) -> None:
    width, height = WIDTHS[device]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":  # a CSP refusal, a script error, a failed load
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.goto(demo.url + "/admin/login")
    page.get_by_label("Email").fill(demo.info["admin_email"])
    page.get_by_label("Password").fill(demo.info["admin_password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/admin/apps$"))
    problems: dict[str, list[str]] = {}
    for path in pages:
        page.goto(demo.url + path)
        page.wait_for_load_state("networkidle")
        found = layout_problems(page) + [f"misaligned row: {r}" for r in misaligned_rows(page)]
        if found:
            problems[path] = found
    context.close()
    assert len(pages) >= 20, pages
    assert problems == {}, f"at {width} px:\n" + "\n".join(f"{p}: {v}" for p, v in problems.items())
    assert errors == []


def test_the_demo_overview_says_what_make_run_did_and_links_to_it(demo: DemoSite) -> None:
    signed = sign_in_client(demo)
    base = f"/admin/apps/{quote(demo.info['application'], safe='')}"
    overview = signed.client.get(f"{base}/overview").text
    signed.client.close()
    assert "What <code>make run</code> just did" in overview
    created = demo.info["cycle"]["created"]
    assert f"{created:,} users and groups created in the portal" in overview
    for link in (f"{base}/logs?status=skipped", f"{base}/users-and-groups", "/admin/directory/users"):
        assert f'href="{link}"' in overview, link
