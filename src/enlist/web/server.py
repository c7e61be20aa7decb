"""How both services (and the demo) are served: one uvicorn configuration, one set of HTTP limits.

`server_config(app, host, port, settings)` is the only place that turns settings into uvicorn
options, so `enlist lms serve`, `enlist provisioning serve` and `enlist demo` cannot drift apart:
uvloop and httptools named explicitly (a missing extra fails at start instead of silently serving
on the slow pair), no uvicorn access log (its lines carry the query string; `enlist.logs`'
`http.request` event is the access log), every log line through `enlist.logs.setup`, the
`HttpLimits` of `enlist.web.http_limits`, and forwarded headers believed only from
`settings.trusted_proxies` (uvicorn's own default believes loopback, which lets anything on the
host, or a proxy that passes the header through, choose its address).
"""

from __future__ import annotations

from typing import Any

from uvicorn import Server
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

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


def serve(
    app: Any, *, host: str, port: int, settings: Settings, workers: int = 1, log_format: str | None = None
) -> None:
    """Serve until stopped (Ctrl+C, SIGTERM). With `workers` > 1, `app` must be an import string
    of a factory; each worker process builds its own application."""
    if workers > 1:
        config = server_config(
            app, host=host, port=port, settings=settings, log_format=log_format, workers=workers, factory=True
        )
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = Server(server_config(app, host=host, port=port, settings=settings, log_format=log_format))
    server.run()
    if not server.started:  # a port in use, say: uvicorn has said why; fail as uvicorn.run does
        raise SystemExit(STARTUP_FAILURE)
