"""The built-in source directory: Graph-shaped users and groups, soft delete, a change feed."""
