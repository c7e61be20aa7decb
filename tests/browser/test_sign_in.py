"""Signing in to each admin site in a real browser, by the form's visible labels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.servers import ADMIN_EMAIL, ADMIN_PASSWORD, LiveProvisioning, create_admin
from tests.live import LivePortal


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    live = LivePortal(tmp_path_factory.mktemp("portal"), None)
    create_admin(live.env(), "lms")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def provisioning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvisioning]:
    live = LiveProvisioning(tmp_path_factory.mktemp("provisioning"))
    create_admin(live.env(), "provisioning")
    live.start()
    yield live
    live.stop()


def sign_in(page: Page, url: str, password: str = ADMIN_PASSWORD) -> None:
    page.goto(url + "/admin")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("which", ["portal", "provisioning"])
def test_an_admin_signs_in_and_out(page: Page, which: str, request: pytest.FixtureRequest) -> None:
    live = request.getfixturevalue(which)
    sign_in(page, live.url, "a wrong password, surely")
    expect(page.get_by_role("alert")).to_have_text("The email or password is not right.")
    sign_in(page, live.url)
    expect(page.get_by_text(ADMIN_EMAIL)).to_be_visible()
    expect(page).to_have_url(live.url + ("/admin/tenants" if which == "portal" else "/admin/apps"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(live.url + "/admin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_session_cookie_is_http_only(page: Page, portal: LivePortal) -> None:
    sign_in(page, portal.url)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["enlist_lms_session"]["httpOnly"] is True
    assert cookies["enlist_lms_session"]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("enlist_lms_session") == -1
