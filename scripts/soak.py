# ruff: noqa: T201, INP001 (a command-line script: it prints its report; scripts/ is no package)
"""`make soak`: the portal under sustained load on loopback, for as long as you ask.

Starts `enlist lms serve` (SQLite in a temporary data directory, or an embedded PostgreSQL with
`--database postgres`, `--workers N` worker processes), makes a tenant through the CLI, then
runs the load of `tests/reliability/loadgen.py` (matching queries, creates, attribute and
membership PATCHes from `--connections` clients) for `--minutes`, printing the figures every
minute. At the end it checks every answered write against the portal and exits 1 when any
request failed or any write is missing; the latency figures are printed, not judged.

    make soak SOAK_ARGS="--minutes 30 --database postgres --workers 3 --connections 16"
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the load generator and the server rig live with the tests

from tests.reliability.loadgen import LoadReport, run_load  # noqa: E402
from tests.reliability.rig import Server  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="portal worker processes (PostgreSQL)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def postgres_url() -> tuple[object, str]:
    from tests.databases import PostgresCluster  # noqa: PLC0415 (only with --database postgres)

    cluster = PostgresCluster()
    return cluster, asyncio.run(cluster.create("soak"))


def tick(report: LoadReport) -> None:
    print(f"[{report.seconds / 60:5.1f} min] {report.summary().splitlines()[0]}", flush=True)


def main() -> int:
    args = arguments()
    if args.workers > 1 and args.database != "postgres":
        print("--workers above 1 needs --database postgres", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="enlist-soak-") as temporary:
        root = Path(temporary)
        cluster, url = None, None
        if args.database == "postgres":
            cluster, url = postgres_url()
        server = Server(root / "portal", url, workers=args.workers)
        server.extra_env["ENLIST_TOKEN_PEPPER"] = os.environ.get("ENLIST_TOKEN_PEPPER", "soak-pepper")
        try:
            server.start()
            tenant_url, token = server.tenant("soak")
            print(
                f"soak: {args.minutes} min, {args.connections} connections, {args.database}, "
                f"{args.workers} worker(s), portal {server.url}",
                flush=True,
            )
            report = asyncio.run(
                run_load(
                    tenant_url,
                    token,
                    seconds=args.minutes * 60,
                    connections=args.connections,
                    seed=args.seed,
                    tick=tick,
                )
            )
        finally:
            server.stop()
            if cluster is not None:
                cluster.stop()  # type: ignore[attr-defined]
    print(report.summary())
    for line in (report.errors + report.missing)[:20]:
        print("  ", line)
    return 1 if report.errors or report.missing else 0


if __name__ == "__main__":
    sys.exit(main())
