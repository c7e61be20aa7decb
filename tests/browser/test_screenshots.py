"""The screenshots in docs/images are of the pages as they are now, and the docs show each one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.walk import DOCS_IMAGES, ROOT, pages_digest


def test_the_screenshots_were_taken_of_the_current_pages() -> None:
    manifest = json.loads((DOCS_IMAGES / "manifest.json").read_text())
    assert manifest["pages_digest"] == pages_digest(), (
        "a template, stylesheet or script of the admin pages changed since the screenshots in "
        "docs/images were taken: run `make screenshots` and commit the pictures"
    )
    for shot in manifest["screenshots"]:
        assert (DOCS_IMAGES / shot["file"]).stat().st_size > 10_000, shot["file"]


def test_every_screenshot_is_shown_in_the_docs() -> None:
    manifest = json.loads((DOCS_IMAGES / "manifest.json").read_text())
    docs = "\n".join(p.read_text() for p in Path(ROOT / "docs").rglob("*.md"))
    missing = [s["file"] for s in manifest["screenshots"] if f"images/{s['file']}" not in docs]
    assert missing == []
    on_disk = {p.name for p in DOCS_IMAGES.glob("*.png")}
    assert on_disk == {s["file"] for s in manifest["screenshots"]}, "a stale picture is left in docs/images"
