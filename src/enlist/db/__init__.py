"""Database plumbing both services share: engines, units of work, migrations on start."""
