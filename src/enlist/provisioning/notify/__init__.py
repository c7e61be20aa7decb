"""Notifications: what needs a person (quarantine, staged deletions, failing cycles, failing
source reads), decided by a pure rule with a quiet period, written to an outbox in the same
transaction as the state change, and delivered by email (SMTP) and signed webhooks (ADR 0025)."""
