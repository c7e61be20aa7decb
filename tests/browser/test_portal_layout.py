"""Every portal page, at a laptop's 1280 px, a wide 1920 px and a 390 px phone, shows a full
tenant without horizontal overflow, controls off-screen, broken attribute names, misaligned or
repetitive tables, cut-off placeholders, console errors or CSP refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from tests.browser.portal_layout_checks import LAYOUT_PROBLEMS
from tests.browser.portal_pages import SeededTenant, portal_page_paths, seed_tenant
from tests.browser.servers import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin
from tests.live import LivePortal

WIDTHS = {"laptop": (1280, 800), "wide": (1920, 1080), "phone": (390, 844)}
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    live = LivePortal(tmp_path_factory.mktemp("layout-portal"), None)
    create_admin(live.env(), "lms")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def seeded(portal: LivePortal) -> SeededTenant:
    return seed_tenant(portal)


def test_every_portal_page_route_is_covered(seeded: SeededTenant) -> None:
    paths = portal_page_paths(seeded)
    assert len(paths) >= 10  # tenants, API tokens, sync, users, user, departments, groups, group, log, entry…
    assert f"/admin/tenants/{seeded.slug}/users/{seeded.user_id}" in paths


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_portal_page_fits_the_screen(
    browser: Browser, portal: LivePortal, seeded: SeededTenant, width: str
) -> None:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, locale="en-US")
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.goto(portal.url + "/admin")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/tenants")
    problems: dict[str, list[str]] = {}
    visited = 0
    for path in portal_page_paths(seeded):
        answer = page.request.get(portal.url + path)
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue  # a download (the log export)
        assert answer.status == 200, f"{path}: {answer.status}"
        page.goto(portal.url + path)
        page.wait_for_load_state("load")
        visited += 1
        found = page.evaluate(LAYOUT_PROBLEMS) + [f"CSP refused {v}" for v in page.evaluate("window.__csp")]
        if found:
            problems[path] = found
    context.close()
    assert visited >= 10
    report = "\n".join(f"{path}: {problem}" for path, found in problems.items() for problem in found)
    assert not problems, f"at {w} px:\n{report}"
    assert errors == []
