"""Attribute mappings, the expression language and scoping filters: pure functions."""
