"""Sources: where the directory's users and groups come from (a file, Microsoft Graph, a SCIM push,
later LDAP). A source reads in rounds of pages (`model`); the framework applies a round to the
directory all at once, so a round cut off part-way changes nothing."""
