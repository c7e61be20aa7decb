"""What the portal's web process holds while it runs: settings, database, peppers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from enlist.db.database import Database
from enlist.db.migrate import upgrade
from enlist.lms.secrets import Peppers, load_peppers
from enlist.settings import Settings

if TYPE_CHECKING:  # the CLI opens the portal without the web stack
    from starlette.requests import Request

MIGRATIONS = Path(__file__).resolve().parent.parent / "store" / "migrations"
VERSION_TABLE = "lms_alembic_version"


@dataclass(frozen=True, slots=True)
class Portal:
    settings: Settings
    db: Database
    peppers: Peppers

    @property
    def public_url(self) -> str:
        return self.settings.lms_public_url.rstrip("/")


async def open_portal(settings: Settings) -> Portal:
    """Connect, migrate to head, load the peppers: what `serve` and the CLI both start with."""
    db = Database(settings.lms_url(), statement_timeout_s=settings.request_timeout_seconds)
    await upgrade(db, MIGRATIONS, VERSION_TABLE)
    return Portal(settings, db, load_peppers(settings))


def portal_of(request: Request) -> Portal:
    portal = request.app.state.portal
    assert isinstance(portal, Portal)
    return portal
