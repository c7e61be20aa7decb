"""API tokens: bearer tokens for scripts and CI, per service (and, in the portal, per tenant).

Minted and checked like the portal's Secret tokens (`enlist.web.tokens`: an HMAC-SHA256
digest under the deployment's pepper, never the token itself), with a name, a scope (`read` or
`write`), an optional expiry and the time of last use. `model` is pure; `tables`, `store`, `door`
(the HTTP check every /api route declares) and `cli` are the edges both services share.
"""
