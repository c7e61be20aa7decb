"""The discovery documents (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas.

What a server says here must be true: PATCH, filter and ETags are supported; bulk, sort and
password change are not. Every document gets `meta.location` under the tenant's SCIM root.

The bulk limits are read by clients that never send bulk requests: authentik cuts a group's
PATCH operations into requests of `bulk.maxOperations` (all in one request when it is 0), so it is
`PATCH_CHUNK` operations, and `maxPayloadSize` is the largest body the portal accepts (a group's).
Both are limits the portal keeps; it accepts more operations per PATCH (see
`enlist.scim.patch.MAX_OPERATIONS`). ADR 0010 says why.
"""

from __future__ import annotations

from typing import Any

from enlist.scim.schema import (
    ENTERPRISE_USER_SCHEMA,
    ENTERPRISE_USER_SCHEMA_ID,
    GROUP_SCHEMA,
    GROUP_SCHEMA_ID,
    USER_SCHEMA,
    USER_SCHEMA_ID,
    schema_document,
)

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
MAX_RESULTS = 1000
PATCH_CHUNK = 1000


def service_provider_config(
    base_url: str, documentation_url: str | None = None, *, max_payload_bytes: int = 0
) -> dict[str, Any]:
    """The ServiceProviderConfig; `max_payload_bytes` is the largest request body accepted."""
    config: dict[str, Any] = {
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": PATCH_CHUNK, "maxPayloadSize": max_payload_bytes},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Secret token",
                "description": "The tenant's Secret token as a bearer token: Authorization: Bearer <token>.",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}/ServiceProviderConfig"},
    }
    if documentation_url:
        config["documentationUri"] = documentation_url
    return config


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A person who works for the organisation and learns on the portal.",
            "schema": USER_SCHEMA_ID,
            "schemaExtensions": [{"schema": ENTERPRISE_USER_SCHEMA_ID, "required": False}],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/User"},
        },
        {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A group of users; it lands as a department, a portal group, or both.",
            "schema": GROUP_SCHEMA_ID,
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/Group"},
        },
    ]


def schemas(base_url: str) -> list[dict[str, Any]]:
    out = []
    for schema in (USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA):
        document = schema_document(schema)
        document["meta"] = {"resourceType": "Schema", "location": f"{base_url}/Schemas/{schema.id}"}
        out.append(document)
    return out
