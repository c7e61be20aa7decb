"""The Sources page, in the browser walk: add a drop folder of HR files, test it, sync it now,
see the read in its state and its log, and the list beside Directory (with screenshots)."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.walk import Camera

CONTRACTORS = {
    "users": [
        {"userPrincipalName": f"contractor{i}@contoso.example", "displayName": f"Contractor {i}"}
        for i in range(1, 4)
    ],
    "groups": [
        {
            "displayName": "Contractors",
            "members": [f"contractor{i}@contoso.example" for i in range(1, 4)],
        }
    ],
}


def walk_sources(page: Page, base_url: str, data_dir: Path, camera: Camera) -> None:
    folder = data_dir / "hr-drop"
    folder.mkdir(exist_ok=True)  # empty until HR delivers a file

    page.goto(base_url + "/admin/directory")
    page.get_by_role("link", name="Sources", exact=True).click()
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()
    page.get_by_role("link", name="Add a drop folder").click()
    page.get_by_label("Name").fill("HR drop folder")
    page.get_by_label("Folder").fill(str(folder))
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Source added")

    # The scheduler of `serve` reads a new source at once: an empty folder, so it reads nothing.
    for _ in range(60):
        if "Scheduler" in page.locator("#log").inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#log")).to_contain_text("Scheduler")
    (folder / "contractors.json").write_text(json.dumps(CONTRACTORS), encoding="utf-8")

    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.locator("#check-result")).to_contain_text("Test succeeded")
    expect(page.locator("#check-result")).to_contain_text("newest file contractors.json")

    page.get_by_role("button", name="Sync now").first.click()
    dialog = page.locator("#sync-dialog")
    dialog.get_by_label("Full read").check()
    dialog.get_by_role("button", name="Sync now").click()
    expect(page.locator("#source-status")).to_contain_text("Full read ok", timeout=60_000)
    expect(page.locator("#source-status")).not_to_contain_text("Reading")
    expect(page.locator("#source-status")).to_contain_text("3 / 0 / 0")
    expect(page.locator("#log")).to_contain_text("Admin")
    camera.shoot(page, "provisioning-source", "A source's page: its state, settings and log after Sync now")

    page.get_by_role("link", name="Sources", exact=True).click()
    row = page.get_by_role("row").filter(has_text="HR drop folder")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("full")
    expect(row).to_contain_text(" min")  # the next read, by the scheduler's rule
    camera.shoot(page, "provisioning-sources", "Sources: each source's state, last read and next read")
