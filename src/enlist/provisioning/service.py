"""What the provisioning service holds while it runs: settings, database, the secret box."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from enlist.db.database import Database
from enlist.db.migrate import upgrade
from enlist.secretbox import SecretBox, load_secret_box
from enlist.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "store" / "migrations"
VERSION_TABLE = "provisioning_alembic_version"


def register_tables() -> None:
    """Import every module that declares tables on the provisioning MetaData."""
    for module in (
        "enlist.provisioning.store.tables",
        "enlist.provisioning.directory.tables",
        "enlist.provisioning.sources.tables",
        "enlist.provisioning.sources.push.tables",
        "enlist.provisioning.notify.tables",
        "enlist.provisioning.api_tokens",
        "enlist.provisioning.api.job_tables",
    ):
        importlib.import_module(module)


@dataclass(frozen=True, slots=True)
class Service:
    settings: Settings
    db: Database
    secrets: SecretBox

    @property
    def public_url(self) -> str:
        return self.settings.provisioning_public_url.rstrip("/")


async def open_service(settings: Settings) -> Service:
    """Connect, migrate to head, load the secret box: what `serve` and the CLI start with."""
    register_tables()
    db = Database(settings.provisioning_url())
    await upgrade(db, MIGRATIONS, VERSION_TABLE)
    return Service(settings, db, load_secret_box(settings))
