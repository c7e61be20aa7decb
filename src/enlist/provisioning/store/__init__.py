"""The provisioning service's database: tables (one MetaData), migrations."""
