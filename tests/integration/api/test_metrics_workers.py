"""`enlist lms serve --workers 2`: a scrape, whichever worker answers it, counts the requests
every worker served (prometheus-client's multiprocess mode in a directory the service made)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.databases import PostgresCluster
from tests.live import ENLIST
from tests.reliability.rig import Server

HEALTHZ = "/healthz"
BATCH = 40


def healthz_count(text: str) -> float:
    """`/healthz` requests answered 200, as one scrape reports them."""
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "enlist_http_requests_total"
        and s.labels.get("route") == HEALTHZ
        and s.labels["status"] == "200"
    )


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def metrics_directory(pid: int) -> Path:
    """The directory the server named in its workers' environment."""
    for child in children(pid):
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        for entry in environ:
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
    for _ in range(200):
        counts = healthz_per_worker(directory)
        if (expected is not None and sum(counts.values()) == expected) or (
            expected is None and counts == previous
        ):
            return counts
        previous = counts
        time.sleep(0.05)
    raise AssertionError(f"the workers' counts {counts} never reached {expected}")


@pytest.fixture
def server(tmp_path: Path, postgres_cluster: PostgresCluster) -> Iterator[Server]:
    import anyio  # noqa: PLC0415

    url = anyio.run(postgres_cluster.create, f"metrics_{uuid.uuid4().hex[:12]}")
    live = Server(tmp_path / "var", url, workers=2)
    yield live
    live.stop()


def get_many(url: str, n: int) -> None:
    """`n` requests, each on a connection of its own, several at once: the workers share them."""

    def one(_: int) -> int:
        return httpx2.get(url + HEALTHZ, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(n))) == {200}


@pytest.mark.postgres
def test_a_scrape_of_any_worker_counts_the_requests_both_workers_served(server: Server) -> None:
    created = subprocess.run(
        [ENLIST, "lms", "api-token", "create", "scraper", "--json"],
        env=server.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )  # also migrates the database before the workers start
    token = json.loads(created.stdout)["token"]
    server.start()
    assert server.process is not None
    headers = {"Authorization": f"Bearer {token}"}
    directory = metrics_directory(server.process.pid)

    baseline = sum(settled(directory).values())
    sent = 0
    for _ in range(10):  # until both workers have served some (the kernel hands out connections)
        get_many(server.url, BATCH)
        sent += BATCH
        per_worker = settled(directory, baseline + sent)
        if len([n for n in per_worker.values() if n > 0]) == 2:
            break
    scrapes = [httpx2.get(server.url + "/metrics", headers=headers, timeout=30) for _ in range(4)]

    assert len([n for n in per_worker.values() if n > 0]) == 2, per_worker
    assert all(s.status_code == 200 for s in scrapes)
    # Each scrape (on a new connection, so any worker) sees the sum of every worker's count.
    assert {healthz_count(s.text) for s in scrapes} == {baseline + sent}
    server.stop()
    assert not directory.exists()  # the service removes its directory when it stops
