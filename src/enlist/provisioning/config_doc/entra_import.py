"""`app import-entra-schema NAME FILE`: Entra's exported synchronizationSchema into an
application, through the same import as `app import` (one transaction, the same difference).

The application must exist (`app create`). Its document is exported, the mappings (rows and
enabled flags) and user scoping filters the schema gives replace the document's, and the result
is imported; everything else (connection, settings, assignments) stays as it is.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from enlist.provisioning.config_doc.entra_schema import read_entra_schema
from enlist.provisioning.config_doc.operations import export_app, import_app
from enlist.provisioning.service import Service


async def import_entra_schema(
    service: Service, name: str, data: Any, *, dry_run: bool = False
) -> dict[str, Any]:
    """`{"import": ImportResult.to_json(), "skipped": [{path, reason}], "read": {...}}`.
    `DocumentError` when the schema is not one or what it gives is not a usable mapping."""
    reading = read_entra_schema(data)
    current = await export_app(service, name)
    updated = dataclasses.replace(
        current,
        user_mapping=reading.user_mapping or current.user_mapping,
        group_mapping=reading.group_mapping or current.group_mapping,
        scoping=current.scoping if reading.user_scoping is None else reading.user_scoping,
    )
    result = await import_app(service, updated, dry_run=dry_run)
    return {
        "import": result.to_json(),
        "read": {
            "user_attributes": len(reading.user_mapping.attributes) if reading.user_mapping else 0,
            "group_attributes": len(reading.group_mapping.attributes) if reading.group_mapping else 0,
            "scoping_filters": None if reading.user_scoping is None else len(reading.user_scoping),
        },
        "skipped": [s.to_json() for s in reading.skipped],
    }
