"""The portal's HTTP surface: the SCIM routes per tenant and the admin JSON API."""
