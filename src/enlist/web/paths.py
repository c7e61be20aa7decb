"""Where the admin pages live, for code that links to them without serving them (the CLI's
`app status` prints an application's Overview URL without loading Starlette or Jinja)."""

ADMIN_PREFIX = "/admin"
