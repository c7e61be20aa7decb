"""The one MetaData every table of the provisioning database is declared on.

The directory (`enlist.provisioning.directory.tables`) and the engine
(`enlist.provisioning.store.tables`) declare their tables on it, so that one Alembic history
covers the whole database.
"""

from __future__ import annotations

import sqlalchemy as sa

from enlist.db.types import Json, Timestamp, naming_convention

metadata = sa.MetaData(naming_convention=naming_convention)

__all__ = ["Json", "Timestamp", "metadata"]
