"""The SCIM client: dialects, retries, Retry-After, rate and concurrency limits, Test connection.

- `dialect`: the PATCH bodies of Entra's two dialects, and filter queries (pure).
- `errors`: the error taxonomy, with Entra's error codes, and the one mapping to it.
- `limits`: the rate limit, the concurrency limit and the `Retry-After` pause.
- `connection`: Test connection's outcome and the messages an admin reads (pure).
- `client`: `ScimTarget`, which sends the requests and holds the policy around them.
"""
