"""The push source (`--kind scim-push`): a SCIM 2.0 endpoint that writes into the directory.

Okta or any SCIM client provisions `/scim/v2/sources/NAME/Users` and `/Groups`; an HR system
sends `POST /bulkUpload` as to Entra's API-driven inbound provisioning. Every write goes through
the sources framework's apply path (`enlist.provisioning.sources.apply`), so pushed objects reach
targets through the change feed like any source's. See docs/reference/push-endpoint.md.
"""
