"""The learning portal: a multi-tenant user directory with a SCIM 2.0 endpoint (`enlist lms`)."""
