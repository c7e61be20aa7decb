"""The 400 a `ParameterError` becomes, in the format of the route that raised it.

Both services register `bad_parameter` as the handler of `ParameterError`, so a route reads its
query parameters with `enlist.web.params` and lets a bad one propagate: an admin page answers an
HTML page that says what is allowed, an `/api/` route `{"error": "…"}`. (SCIM routes turn it into
a SCIM `Error` themselves: their clients parse that shape, and their errors are logged.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from enlist.web.pages import ADMIN_PREFIX, Site
from enlist.web.params import ParameterError


async def bad_parameter(request: Request, exc: Exception) -> Response:
    """400 with the parameter's message: an admin page for /admin, JSON anywhere else."""
    assert isinstance(exc, ParameterError)
    site = getattr(request.app.state, "site", None)
    if request.url.path.startswith(ADMIN_PREFIX) and isinstance(site, Site):
        return site.render(
            request, "bad_request.html", 400, page_title="Not a valid address", message=str(exc)
        )
    return JSONResponse({"error": str(exc)}, status_code=400)
