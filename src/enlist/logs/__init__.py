"""Structured logs of both services: the request id and log context (`context`, stdlib only, so
every module may use it without cost at start-up), the one formatter every log line goes through
(`setup`, imported only by the commands that serve), and the per-request event (`middleware`).
The events and their keys are listed in docs/reference/logs.md."""
