"""The portal's alerts (issue 13): per-tenant settings, the outbox written in the SCIM write's
transaction, and the sender `enlist lms serve` runs. The rule and the delivery are the shared
core's (`enlist.notify`, ADR 0033)."""
