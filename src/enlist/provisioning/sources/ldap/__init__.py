"""LDAP and Active Directory as a source: one reader over python-ldap, one dialect per server
family (`openldap`, `ad`), see `dialect`."""
