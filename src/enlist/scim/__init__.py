"""The SCIM 2.0 protocol (RFC 7643/7644) as both sides of enlist use it: pure, no I/O.

Schemas and discovery documents, the filter grammar, PATCH normalisation for both Entra
dialects, resource documents, attribute projection and the error taxonomy live here. The
portal's store and the provisioning service's target client build on these modules.
"""
