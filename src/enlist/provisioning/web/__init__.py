"""The provisioning service's admin pages, laid out like Entra ID's (behind `AdminGuard`)."""
