"""The provisioning service (`enlist provisioning`): an engine that does what Entra ID's
provisioning service does, from a source directory into any SCIM application."""
