"""Screenshots for the docs, taken during the browser walk when ENLIST_SCREENSHOTS names a folder.

`make screenshots` sets it to docs/images. The folder's manifest.json records a digest of every
template and stylesheet the pages are made of; `test_screenshots.py` fails when the pages have
changed since, so the pictures in the docs cannot silently go stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
DOCS_IMAGES = ROOT / "docs" / "images"
PAGE_SOURCES = [
    ROOT / "src" / "enlist" / "web" / "templates",
    ROOT / "src" / "enlist" / "web" / "static",
    ROOT / "src" / "enlist" / "lms" / "web" / "templates",
    ROOT / "src" / "enlist" / "provisioning" / "web" / "templates",
]


def pages_digest() -> str:
    """SHA-256 over the page sources (templates, CSS, JS), in a stable order."""
    digest = hashlib.sha256()
    for folder in PAGE_SOURCES:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.suffix in {".html", ".css", ".js", ".svg"}:
                digest.update(file.relative_to(ROOT).as_posix().encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()


class Camera:
    def __init__(self) -> None:
        target = os.environ.get("ENLIST_SCREENSHOTS")
        self.folder = Path(target) if target else None
        self.taken: list[dict[str, str]] = []

    def shoot(self, page: Page, name: str, caption: str) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=self.folder / f"{name}.png", full_page=False)
        self.taken.append({"file": f"{name}.png", "caption": caption})

    def finish(self) -> None:
        if self.folder is None:
            return
        manifest = {"pages_digest": pages_digest(), "screenshots": self.taken}
        (self.folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
