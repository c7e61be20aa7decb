"""Cycles: plan (a pure diff) and apply, links, watermarks, escrow, quarantine, scheduling."""
