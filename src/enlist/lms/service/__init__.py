"""The portal's SCIM service: each SCIM operation as one function over the store.

Functions take a `Request` context (database, tenant, base URL, the sync log entry to fill) and
a parsed body or query, and either return the SCIM response document or raise `ScimError`. A
write runs in one transaction together with its sync log entry: a change is never committed
without its log line, and a failed request changes nothing.
"""
