"""The instruments, declared once per process on `REGISTRY`.

With `PROMETHEUS_MULTIPROC_DIR` set before this module is first imported (`enlist lms serve
--workers N` sets it, `multiprocess.prepare`), prometheus-client keeps every counter and
histogram in files there, which a scrape of any worker adds up. Gauges that describe the database
(escrow, quarantine, pool) are not instruments: `GET /metrics` reads them when it is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# Latency buckets for HTTP requests: SCIM answers in milliseconds, an export may take seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Cycles and source reads take from a second to hours.
RUN_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)

HTTP_REQUESTS = Counter(
    "enlist_http_requests",
    "HTTP requests answered, by service, route template, method and status.",
    ("service", "route", "method", "status"),
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "enlist_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by service and route template.",
    ("service", "route", "method"),
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)
WORKERS = Gauge(
    "enlist_worker_processes",
    "Worker processes serving the service now (1 without --workers; a worker that died is "
    "no longer counted once the supervisor has marked it dead).",
    ("service",),
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
SCIM_OPERATIONS = Counter(
    "enlist_scim_operations",
    "SCIM requests whose Secret token was accepted, by tenant slug, resource, method and outcome.",
    ("tenant", "resource", "method", "outcome"),
    registry=REGISTRY,
)
TOKEN_FAILURES = Counter(
    "enlist_token_failures",
    "Refused tokens, by service, kind (api or secret) and reason.",
    ("service", "kind", "reason"),
    registry=REGISTRY,
)
CYCLES = Counter(
    "enlist_cycles",
    "Provisioning cycles finished, by kind (initial, incremental) and outcome.",
    ("kind", "outcome"),
    registry=REGISTRY,
)
CYCLE_DURATION = Histogram(
    "enlist_cycle_duration_seconds",
    "How long provisioning cycles took, by kind.",
    ("kind",),
    buckets=RUN_BUCKETS,
    registry=REGISTRY,
)
OBJECTS_PROCESSED = Counter(
    "enlist_objects_processed",
    "Objects a cycle processed, by object kind, action and status (as in the provisioning log).",
    ("object_kind", "action", "status"),
    registry=REGISTRY,
)
SOURCE_READS = Counter(
    "enlist_source_reads",
    "Reads of a configured source, by source kind and outcome.",
    ("kind", "outcome"),
    registry=REGISTRY,
)
SOURCE_READ_DURATION = Histogram(
    "enlist_source_read_duration_seconds",
    "How long reads of a configured source took, by source kind.",
    ("kind",),
    buckets=RUN_BUCKETS,
    registry=REGISTRY,
)


def outcome_of(status: int) -> str:
    """`success` (2xx, 3xx), `client_error` (4xx) or `server_error` (5xx)."""
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "success"
