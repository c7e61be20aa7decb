"""How both services (and the demo) are served: one uvicorn configuration, one set of HTTP limits.

`server_config(app, host, port, settings)` is the only place that turns settings into uvicorn
options, so `enlist lms serve`, `enlist provisioning serve` and `enlist demo` cannot drift apart:
uvloop and httptools named explicitly (a missing extra fails at start instead of silently serving
on the slow pair), no uvicorn access log (its lines carry the query string; `enlist.logs`'
`http.request` event is the access log), every log line through `enlist.logs.setup`, the
`HttpLimits` of `enlist.web.http_limits`, and forwarded headers believed only from
`settings.trusted_proxies` (uvicorn's own default believes loopback, which lets anything on the
host, or a proxy that passes the header through, choose its address).

With `workers` > 1, `serve` first makes the metrics directory of prometheus-client's multiprocess
mode (`enlist.metrics.multiprocess`), then runs uvicorn's supervisor, which replaces a worker
that dies; `Supervisor` tells the metrics each time a worker is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn import Server
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from enlist.metrics import multiprocess
from enlist.settings import Settings
from enlist.web.http_limits import HttpLimits, LimitedConfig, parse_proxies


def http_limits(settings: Settings) -> HttpLimits:
    return HttpLimits(
        max_header_bytes=settings.http_max_header_bytes,
        max_headers=settings.http_max_headers,
        header_timeout_s=settings.http_header_timeout_seconds,
        body_timeout_s=settings.http_body_timeout_seconds,
        max_connections_per_client=settings.http_max_connections_per_client,
        trusted_proxies=parse_proxies(settings.trusted_proxies),
    )


def server_config(
    app: Any,
    *,
    host: str,
    port: int,
    settings: Settings,
    log_format: str | None = None,
    quiet: bool = False,
    **options: Any,
) -> LimitedConfig:
    """The uvicorn configuration of a service: `app` is an ASGI app or an import string (workers).
    Its log lines are written in `log_format` (`json`, `text`; None: `settings.log_format`), from
    level INFO, or WARNING when `quiet` (the demo's terminal)."""
    limits = http_limits(settings)
    return LimitedConfig(
        app,
        limits=limits,
        log_format=log_format or settings.log_format,
        quiet=quiet,
        log_config=None,  # uvicorn's lines go through enlist.logs.setup's formatter instead
        host=host,
        port=port,
        loop="uvloop",
        access_log=False,
        log_level="warning",
        proxy_headers=bool(limits.trusted_proxies),
        forwarded_allow_ips=list(limits.trusted_proxies),
        **options,
    )


class Supervisor(Multiprocess):
    """uvicorn's supervisor, marking every worker that leaves (died and replaced, retired by
    SIGHUP's restart or SIGTTOU, or stopped at the end) dead in the metrics directory."""

    def _reaping(self, step: Callable[[], None]) -> None:
        before = {p.pid for p in self.processes}
        step()
        for pid in before - {p.pid for p in self.processes}:
            if pid is not None:
                multiprocess.worker_exited(pid)

    def keep_subprocess_alive(self) -> None:
        self._reaping(super().keep_subprocess_alive)

    def restart_all(self) -> None:
        self._reaping(super().restart_all)

    def handle_ttou(self) -> None:
        self._reaping(super().handle_ttou)

    def join_all(self) -> None:
        super().join_all()
        for process in self.processes:
            if process.pid is not None:
                multiprocess.worker_exited(process.pid)


def serve(
    app: Any, *, host: str, port: int, settings: Settings, workers: int = 1, log_format: str | None = None
) -> None:
    """Serve until stopped (Ctrl+C, SIGTERM). With `workers` > 1, `app` must be an import string
    of a factory; each worker process builds its own application, and every scrape of
    `/metrics` adds up the counts of every worker."""
    if workers > 1:
        multiprocess.prepare()  # before the workers start: each adds its counts to the shared files
        config = server_config(
            app, host=host, port=port, settings=settings, log_format=log_format, workers=workers, factory=True
        )
        Supervisor(config, sockets=[config.bind_socket()]).run()
        return
    server = Server(server_config(app, host=host, port=port, settings=settings, log_format=log_format))
    server.run()
    if not server.started:  # a port in use, say: uvicorn has said why; fail as uvicorn.run does
        raise SystemExit(STARTUP_FAILURE)
