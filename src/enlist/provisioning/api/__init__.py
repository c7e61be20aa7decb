"""The provisioning service's HTTP surface."""
