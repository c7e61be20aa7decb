"""The learning portal's admin pages (server-rendered, behind `enlist.web.guard.AdminGuard`)."""
