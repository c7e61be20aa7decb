"""SCIM responses: `application/scim+json`, serialised with orjson, errors as RFC 7644 bodies."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from enlist.scim.errors import ScimError

SCIM_MEDIA_TYPE = "application/scim+json"


class ScimResponse(Response):
    media_type = SCIM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def scim_error_response(error: ScimError) -> ScimResponse:
    return ScimResponse(error.to_body(), status_code=error.status, headers=error.headers)
