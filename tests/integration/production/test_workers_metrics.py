"""`enlist lms serve --workers 2` and `enlist provisioning serve --workers 2`, on a SQLite file
and on PostgreSQL: a scrape, whichever worker answers it, counts the requests every worker
served (prometheus-client's multiprocess mode, in a directory the service makes and removes); a
worker that dies is replaced, its counts kept and its live gauge dropped (`mark_process_dead`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.production.deployment import Deployment, Process
from tests.live import ENLIST

HEALTHZ = "/healthz"
BATCH = 40
SERVICES = ("lms", "provisioning")


def scraped(text: str, name: str, **labels: str) -> float:
    """The sum of the samples `name` with `labels` in one scrape."""
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def healthz_count(text: str) -> float:
    """`/healthz` requests answered 200, as one scrape reports them."""
    return scraped(text, "enlist_http_requests_total", route=HEALTHZ, status="200")


def metrics_directory(server: Process) -> Path:
    """The directory the server named in its workers' environment."""
    for worker in server.workers():
        for entry in Path(f"/proc/{worker}/environ").read_bytes().split(b"\0"):
            if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                return Path(entry.split(b"=", 1)[1].decode())
    raise AssertionError("no worker has PROMETHEUS_MULTIPROC_DIR")


def healthz_per_worker(directory: Path) -> dict[int, float]:
    """Each worker's own count of `/healthz` requests, read from its file."""
    counts: dict[int, float] = {}
    for path in directory.glob("counter_*.db"):
        worker = int(path.stem.split("_")[1])
        for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(str(path)):
            metric, _name, labels, _help = json.loads(key)
            if (
                metric == "enlist_http_requests"
                and labels.get("route") == HEALTHZ
                and labels["status"] == "200"
            ):
                counts[worker] = counts.get(worker, 0) + value
    return counts


def settled(directory: Path, expected: float | None = None) -> dict[int, float]:
    """The workers' counts once they add up to `expected` (a worker counts a request just after
    answering it) or, without one, once two reads a moment apart agree."""
    previous: dict[int, float] | None = None
    counts: dict[int, float] = {}
    for _ in range(400):
        counts = healthz_per_worker(directory)
        if (expected is not None and sum(counts.values()) == expected) or (
            expected is None and counts == previous
        ):
            return counts
        previous = counts
        time.sleep(0.05)
    raise AssertionError(f"the workers' counts {counts} never reached {expected}")


def get_many(url: str, n: int) -> None:
    """`n` requests, each on a connection of its own, several at once: the workers share them."""

    def one(_: int) -> int:
        return httpx2.get(url + HEALTHZ, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(n))) == {200}


@pytest.fixture(params=SERVICES)
def served(request: pytest.FixtureRequest, deployment: Deployment) -> Iterator[tuple[str, Process, str]]:
    """(service, its server with two workers, an API token), the token made first (which also
    migrates the database: the workers start on a database at head)."""
    service = str(request.param)
    token = deployment.cli_json(service, "api-token", "create", "scraper")["token"]
    server = deployment.serve(service, "--workers", "2")
    yield service, server, token
    server.stop()


def serve_on_both_workers(server: Process, directory: Path) -> float:
    """Send batches of `/healthz` until both workers have answered some; how many were sent."""
    baseline = sum(settled(directory).values())
    sent = 0
    for _ in range(10):  # the kernel hands out the connections
        get_many(server.url, BATCH)
        sent += BATCH
        per_worker = settled(directory, baseline + sent)
        if len([n for n in per_worker.values() if n > 0]) == 2:
            return baseline + sent
    raise AssertionError(f"one worker served every request: {per_worker}")


def test_a_scrape_of_any_worker_counts_the_requests_both_workers_served(
    served: tuple[str, Process, str],
) -> None:
    service, server, token = served
    directory = metrics_directory(server)
    total = serve_on_both_workers(server, directory)

    scrapes = [
        httpx2.get(server.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        for _ in range(4)
    ]

    assert all(s.status_code == 200 for s in scrapes)
    # Each scrape (on a new connection, so any worker) sees the sum of every worker's count.
    assert {healthz_count(s.text) for s in scrapes} == {total}
    assert {scraped(s.text, "enlist_worker_processes", service=service) for s in scrapes} == {2}
    server.stop()
    assert not directory.exists()  # the service removes its directory when it stops


def wait_for_replacement(server: Process, gone: int) -> list[int]:
    for _ in range(600):
        workers = server.workers()
        if len(workers) == 2 and gone not in workers:
            return workers
        time.sleep(0.05)
    raise AssertionError(f"worker {gone} was not replaced: {server.workers()}")


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_a_killed_worker_is_replaced_its_counts_kept_and_its_live_gauge_dropped(
    served: tuple[str, Process, str],
) -> None:
    service, server, token = served
    directory = metrics_directory(server)
    total = serve_on_both_workers(server, directory)
    per_worker_before = healthz_per_worker(directory)
    victim = server.workers()[0]

    os.kill(victim, signal.SIGKILL)  # an OOM kill, say
    replacement = wait_for_replacement(server, victim)
    new = next(pid for pid in replacement if pid not in per_worker_before)
    for _ in range(1200):  # the new worker has built its application (and counted itself)
        if (directory / f"gauge_livesum_{new}.db").exists():
            break
        time.sleep(0.05)
    answered = 0
    per_worker: dict[int, float] = {}
    for _ in range(50):  # until the new worker has answered some too
        get_many(server.url, 10)
        answered += 10
        per_worker = settled(directory, total + answered)
        if per_worker.get(new, 0) > 0:
            break
    scrape = httpx2.get(server.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)

    assert per_worker[victim] > 0, "the killed worker's counts are still in its file"
    assert all(per_worker.get(pid, 0) > 0 for pid in replacement), per_worker
    assert healthz_count(scrape.text) == total + answered, "the killed worker's counts are kept"
    assert scraped(scrape.text, "enlist_worker_processes", service=service) == 2, (
        "the supervisor marked the killed worker dead: two workers, not three"
    )
    assert not (directory / f"gauge_livesum_{victim}.db").exists()


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("workers", ["0", "-1"])
def test_serve_refuses_fewer_than_one_worker(service: str, workers: str) -> None:
    done = subprocess.run(
        [ENLIST, service, "serve", "--workers", workers],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Invalid value for '--workers'" in done.stderr
