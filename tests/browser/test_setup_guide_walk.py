"""The setup guide, screen by screen, in a real browser: both services, by their visible labels.

The portal admin creates a tenant and copies its Tenant URL and Secret token; the identity admin
creates the application (New application → Create your own application → Non-gallery → Create),
connects it (Provisioning → Connect your application → Test connection → Create), assigns a group
(Users and groups → Add user/group → None Selected → Select → Assign), starts provisioning, sees
the cycle finish, opens a provisioning log entry and pauses. Then the portal shows the users.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.servers import ADMIN_EMAIL, ADMIN_PASSWORD, LiveProvisioning, create_admin
from tests.browser.sources_walk import walk_sources
from tests.browser.walk import Camera
from tests.live import LivePortal

SALES = [f"seller{i}@contoso.example" for i in range(1, 7)]
ENGINEERS = [f"engineer{i}@contoso.example" for i in range(1, 5)]
DIRECTORY = {
    "users": [
        {
            "userPrincipalName": upn,
            "givenName": upn.split("@")[0].rstrip("0123456789").capitalize(),
            "surname": f"Number {upn.split('@')[0][-1]}",
            "displayName": f"{upn.split('@')[0].capitalize()} Contoso",
            "mail": upn,
            "jobTitle": "Account manager" if upn in SALES else "Engineer",
        }
        for upn in SALES + ENGINEERS
    ],
    "groups": [
        {"displayName": "Sales", "members": SALES},
        {"displayName": "Engineering", "members": ENGINEERS},
    ],
}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    live = LivePortal(tmp_path_factory.mktemp("walk-portal"), None)
    create_admin(live.env(), "lms")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def provisioning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvisioning]:
    live = LiveProvisioning(tmp_path_factory.mktemp("walk-provisioning"))
    create_admin(live.env(), "provisioning")
    live.import_directory(DIRECTORY)
    live.start()
    yield live
    live.stop()


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/admin")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_walk_the_setup_guide_from_token_to_paused_provisioning(
    page: Page, portal: LivePortal, provisioning: LiveProvisioning
) -> None:
    camera = Camera()

    # The learning portal: a tenant, its Tenant URL and its Secret token (shown this once).
    sign_in(page, portal.url)
    page.get_by_label("Name").fill("Contoso Learning")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_role("heading", name="User synchronization")).to_be_visible()
    expect(page.get_by_text("Copy the Secret token now: it will not be shown again.")).to_be_visible()
    tenant_url = page.get_by_label("Tenant URL", exact=True).input_value()
    secret_token = page.get_by_label("Secret token", exact=True).input_value()
    assert tenant_url == f"{portal.url}/scim/v2/contoso-learning"
    assert secret_token.startswith("enl_")
    camera.shoot(
        page,
        "portal-user-synchronization",
        "The portal's User synchronization page, right after the token was generated",
    )
    page.goto(portal.url + "/admin/tenants/contoso-learning/sync")  # the same page, later
    expect(page.get_by_text("Hidden: a Secret token is shown only once")).to_be_visible()
    assert secret_token not in page.content()

    # Entra ID's path on the provisioning service: Enterprise applications → New application.
    sign_in(page, provisioning.url)
    expect(page.get_by_role("heading", name="Enterprise applications")).to_be_visible()
    page.get_by_role("link", name="New application").click()
    page.get_by_role("button", name="Create your own application").click()
    page.get_by_label("What's the name of your app?").fill("iSpring Learn")
    page.get_by_label("Integrate any other application you don't find in the gallery (Non-gallery)").check()
    camera.shoot(
        page, "provisioning-create-your-own-application", "Create your own application (Non-gallery)"
    )
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"iSpring Learn \| Overview"))).to_be_visible()

    # Manage > Provisioning → Connect your application → Test connection → Create.
    page.get_by_role("link", name="Provisioning", exact=True).click()
    page.get_by_role("button", name="Connect your application").click()
    page.get_by_label("Tenant URL").fill(tenant_url)
    page.get_by_label("Secret token", exact=True).fill("enl_wrong_token")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-result")).to_contain_text("Unauthorized")
    page.get_by_label("Secret token", exact=True).fill(secret_token)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-result")).to_contain_text(
        "the supplied credentials are authorized", ignore_case=True
    )
    camera.shoot(
        page, "provisioning-connect-your-application", "Connect your application: Test connection succeeded"
    )
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("passed Test connection")
    expect(page.get_by_label("Tenant URL")).to_have_value(tenant_url)
    expect(page.get_by_label("Secret token", exact=True)).to_have_value("")  # write-only: never shown back
    assert secret_token not in page.content()

    # Manage > Users and groups → Add user/group → None Selected → Select → Assign.
    page.get_by_role("link", name="Users and groups", exact=True).click()
    page.get_by_role("link", name="Add user/group").click()
    page.get_by_role("button", name="None Selected").click()
    page.get_by_label("Search").fill("Sal")
    page.get_by_label("Sales").check()
    camera.shoot(page, "provisioning-add-assignment", "Add user/group: the searchable list")
    page.get_by_role("button", name="Select", exact=True).click()
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("cell", name="Sales").first).to_be_visible()
    camera.shoot(page, "provisioning-users-and-groups", "Users and groups: Sales is assigned")

    # Overview → Start provisioning; wait for the cycle to finish.
    page.get_by_role("link", name="Overview", exact=True).click()
    page.get_by_role("button", name="Start provisioning", exact=True).click()
    expect(page.get_by_text(re.compile(r"Initial cycle \w+, finished"))).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Initial cycle completed")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Recent cycles"))).to_be_visible()  # the chart caught up
    camera.shoot(page, "provisioning-overview", "Overview after the initial cycle")

    # View provisioning logs → open an entry: its tabs.
    page.get_by_role("link", name="View provisioning logs").click()
    expect(page.get_by_role("heading", name=re.compile("Provisioning logs"))).to_be_visible()
    page.get_by_role("row").filter(has_text="seller1@contoso.example").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Provisioning log details")).to_be_visible()
    for tab in ("Steps", "Troubleshooting & recommendations", "Modified properties", "Summary"):
        expect(page.get_by_role("tab", name=tab)).to_be_visible()
    page.get_by_role("tab", name="Modified properties").click()
    expect(page.locator("#log-detail")).to_contain_text("seller1@contoso.example")
    camera.shoot(page, "provisioning-log-detail", "A provisioning log entry: Modified properties")

    # Overview → Pause provisioning.
    page.get_by_role("link", name="Overview", exact=True).click()
    page.get_by_role("button", name="Pause provisioning", exact=True).click()
    expect(page.locator("#app-status")).to_contain_text("paused", ignore_case=True)

    # Sources, beside Directory: a drop folder of HR files, tested, read now, in its log.
    walk_sources(page, provisioning.url, provisioning.data_dir, camera)

    # Back in the portal: the assigned people arrived, the others did not.
    page.goto(portal.url + "/admin/tenants/contoso-learning/users")
    for upn in SALES:
        expect(page.get_by_role("link", name=upn, exact=True)).to_be_visible()
    for upn in ENGINEERS:
        expect(page.get_by_role("link", name=upn, exact=True)).to_have_count(0)
    camera.shoot(page, "portal-users", "The portal's Users page after provisioning")
    page.get_by_role("link", name="Sync log", exact=True).click()
    expect(page.get_by_text("seller1@contoso.example").first).to_be_visible()
    camera.shoot(page, "portal-sync-log", "The portal's Sync log")

    # Both sites on one host (different ports share cookies): still signed in to the other one.
    page.goto(provisioning.url + "/admin/apps")
    expect(page.get_by_role("heading", name="Enterprise applications")).to_be_visible()
    camera.finish()
