"""Provisioning logs: one record per object per cycle, queries, export."""
