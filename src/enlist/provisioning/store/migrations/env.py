"""Alembic environment for the provisioning database: runs on the connection we pass in."""

from alembic import context

from enlist.provisioning.service import register_tables
from enlist.provisioning.store.metadata import metadata

register_tables()
config = context.config
context.configure(
    connection=config.attributes["connection"],
    target_metadata=metadata,
    render_as_batch=True,
    version_table=config.get_main_option("version_table") or "alembic_version",
)
context.run_migrations()
