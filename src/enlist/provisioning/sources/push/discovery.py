"""The push endpoint's discovery documents: true of it, with its own limits.

The portal's documents (`enlist.scim.discovery`) with what differs here: bulk IS supported
(`POST /bulkUpload`), with the source's `bulk_max_operations` and `bulk_max_payload_bytes` (the
largest body any request may have), and ETags are not (no `If-Match`). A ServiceProviderConfig
is a single document; `ResourceTypes` and `Schemas` are lists.
"""

from __future__ import annotations

from typing import Any

from enlist.provisioning.sources.push.bulk import Limits
from enlist.provisioning.sources.push.writes import Push
from enlist.scim import discovery
from enlist.scim.listing import list_response


def config(push: Push) -> dict[str, Any]:
    limits = Limits.of(push.source.settings)
    document = discovery.service_provider_config(push.base_url, max_payload_bytes=limits.max_payload_bytes)
    document["bulk"] = {
        "supported": True,
        "maxOperations": limits.max_operations,
        "maxPayloadSize": limits.max_payload_bytes,
    }
    document["etag"] = {"supported": False}
    document["authenticationSchemes"][0]["name"] = "Push token"
    document["authenticationSchemes"][0]["description"] = (
        "The push source's token as a bearer token: Authorization: Bearer <token>."
    )
    return document


def resource_types(push: Push) -> dict[str, Any]:
    items = discovery.resource_types(push.base_url)
    return list_response(len(items), 1, items)


def schemas(push: Push) -> dict[str, Any]:
    items = discovery.schemas(push.base_url)
    return list_response(len(items), 1, items)
