"""The portal's storage: SQLAlchemy Core tables, repositories and Alembic migrations."""
