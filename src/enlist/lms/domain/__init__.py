"""The portal's own model, pure: tenants and their policies, Secret tokens, statuses, placement."""
