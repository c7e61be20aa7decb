"""Alembic environment for the portal: runs on the connection `enlist.db.migrate` passes in."""

from alembic import context

from enlist.lms.store.tables import metadata

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    version_table=config.get_main_option("version_table") or "alembic_version",
)
context.run_migrations()
