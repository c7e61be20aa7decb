"""SCIM responses: the shared ones in `enlist.web.scim_responses`, named here for the portal."""

from enlist.web.scim_responses import SCIM_MEDIA_TYPE, ScimResponse, scim_error_response

__all__ = ["SCIM_MEDIA_TYPE", "ScimResponse", "scim_error_response"]
