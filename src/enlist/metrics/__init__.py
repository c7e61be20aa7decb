"""Prometheus metrics of both services: the instruments, the request middleware, `GET /metrics`.

Every metric name starts with `enlist_`; every label value comes from a closed set written in
the code (route templates, outcomes, actions, kinds) or, for SCIM operations, from the tenants
table (a tenant's slug, recorded only once its Secret token was accepted): never from a request
or from personal data. See docs/reference/metrics.md.
"""
