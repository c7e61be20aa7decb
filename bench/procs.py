"""The processes a scenario runs: the portal, the peer, the ceiling, PostgreSQL, `enlist` commands.

Every server is a separate process (the load client must not share its GIL), started in its
own session and stopped by its pid when the scenario ends, whatever happens. `Workspace` holds
one run's temporary directory and the environment every `enlist` process of the run gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.client import Connection, HttpError

BIN = Path(sys.executable).parent
ENLIST = str(BIN / "enlist")
UVICORN = str(BIN / "uvicorn")
ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A scenario could not be set up or run: the message says what failed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Workspace:
    """One run's scratch directory; `env(data)` is the environment of an `enlist` process."""

    root: Path
    keep: bool = False

    @classmethod
    def create(cls, keep: bool = False) -> Workspace:
        return cls(Path(tempfile.mkdtemp(prefix="enlist-bench-")), keep)

    def dir(self, name: str) -> Path:
        """A new directory for `name` (`name-2`, `name-3`… when it was used already)."""
        path, n = self.root / name, 1
        while path.exists():
            n += 1
            path = self.root / f"{name}-{n}"
        path.mkdir(parents=True)
        return path

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENLIST_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"enlist-pycache-{os.getuid()}")
        env["PYTHONPATH"] = str(ROOT)
        env["ENLIST_DATA_DIR"] = str(data_dir)
        env["ENLIST_TOKEN_PEPPER"] = "bench-pepper"
        env.update(extra)
        return env

    def cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Server:
    """A server process on 127.0.0.1:`port`, ready once `GET /healthz` answers 200."""

    name: str
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                _kill_group(self.process)
                await self.process.wait()


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill a process we started in its own session, and whatever it started (by group id)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@asynccontextmanager
async def serve(
    name: str, argv: Sequence[str], env: dict[str, str], log: Path, port: int, ready_s: float = 90
) -> AsyncIterator[Server]:
    """Start `argv`, wait for its /healthz, yield it, and stop it on the way out."""
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log)
    try:
        await _wait_ready(server, ready_s)
        yield server
    finally:
        await server.stop()


async def _wait_ready(server: Server, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.returncode is not None:
            break
        conn = Connection(server.url)
        try:
            if (await conn.request("GET", "/healthz")).status == 200:
                return
        except (OSError, HttpError):
            pass
        finally:
            await conn.close()
        await asyncio.sleep(0.2)
    tail = server.log.read_text(errors="replace")[-2000:]
    raise BenchError(f"{server.name} did not become ready in {seconds:.0f} s: {tail}")


def uvicorn_argv(app: str, port: int, workers: int = 1) -> list[str]:
    argv = [UVICORN, app, "--factory", "--host", "127.0.0.1", "--port", str(port)]
    return [*argv, "--log-level", "warning", "--no-access-log", "--workers", str(workers)]


async def run(
    argv: Sequence[str], env: dict[str, str], limit_s: float = 120, stdin: bytes | None = None
) -> str:
    """Run a command to its end; its stdout. A non-zero exit raises `BenchError` with stderr."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), limit_s)
    except (TimeoutError, asyncio.CancelledError):
        _kill_group(process)
        await process.wait()
        raise
    if process.returncode != 0:
        shown = " ".join(argv[:6])
        raise BenchError(f"`{shown} …` exited {process.returncode}: {err.decode(errors='replace')[-1500:]}")
    return out.decode()


async def enlist(env: dict[str, str], *args: str, limit_s: float = 120) -> Any:
    """An `enlist … --json` command's parsed output."""
    return json.loads(await run([ENLIST, *args, "--json"], env, limit_s))


@dataclass
class Measured:
    """A command's outcome with its own resources: wall time, peak RSS (MiB), CPU seconds."""

    stdout: str
    wall_s: float
    peak_rss_mib: float
    cpu_s: float
    returncode: int


async def measured(argv: Sequence[str], env: dict[str, str], limit_s: float) -> Measured:
    """Run `argv` under `bench.measure`, which reads the child's rusage when it exits."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as report:
        path = Path(report.name)
    try:
        out = await run([sys.executable, "-m", "bench.measure", str(path), "--", *argv], env, limit_s)
        usage = json.loads(path.read_text())  # noqa: ASYNC240 (a few bytes, after the command)
    finally:
        path.unlink(missing_ok=True)  # noqa: ASYNC240
    return Measured(out, usage["wall_s"], usage["maxrss_kib"] / 1024, usage["cpu_s"], usage["returncode"])


@dataclass(frozen=True)
class Sample:
    """One look at a running command: seconds since it started, its resident set now and its
    peak so far (`VmRSS`, `VmHWM`, MiB), and how far it got (whatever `progress` counts)."""

    at_s: float
    rss_mib: float
    hwm_mib: float
    progress: int | None


@dataclass
class Watched:
    """A command run by `watched`: `measured` when it ended within its limit, else None (it was
    stopped, and the samples say how far it got and what it used until then)."""

    measured: Measured | None
    samples: list[Sample]

    @property
    def peak_rss_mib(self) -> float:
        """The peak resident set: from `wait4` when the command ended, else the last `VmHWM`."""
        if self.measured is not None:
            return self.measured.peak_rss_mib
        return max((s.hwm_mib for s in self.samples), default=0.0)

    @property
    def progress(self) -> int | None:
        return self.samples[-1].progress if self.samples else None


async def watched(
    argv: Sequence[str],
    env: dict[str, str],
    limit_s: float,
    progress: Callable[[], Awaitable[int]] | None = None,
    every_s: float = 1.0,
) -> Watched:
    """`measured`, also sampling the command's memory (and `progress()`) every `every_s`; past
    `limit_s` the command is stopped and the result has no `measured`. A non-zero exit raises
    `BenchError` with its stderr, as `run` does."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as report:
        path = Path(report.name)
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "bench.measure", str(path), "--", *argv],
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    started = time.monotonic()
    done = asyncio.ensure_future(process.communicate())
    samples: list[Sample] = []
    try:
        while not done.done() and time.monotonic() - started < limit_s:
            wait = min(every_s, limit_s - (time.monotonic() - started))
            await asyncio.wait([done], timeout=max(wait, 0))
            if done.done():
                break
            sample = _sample(path, time.monotonic() - started)
            if sample is not None:
                counted = await progress() if progress is not None else None
                samples.append(Sample(sample.at_s, sample.rss_mib, sample.hwm_mib, counted))
        if not done.done():
            _kill_group(process)
            await done
            return Watched(None, samples)
        out, err = done.result()
        # A few bytes, after the command.
        usage = json.loads(path.read_text()) if process.returncode == 0 else None  # noqa: ASYNC240
    except BaseException:
        if not done.done():
            _kill_group(process)
            await asyncio.shield(done)
        raise
    finally:
        path.unlink(missing_ok=True)  # noqa: ASYNC240
    if usage is None:
        shown = " ".join(argv[:6])
        raise BenchError(f"`{shown} …` exited {process.returncode}: {err.decode(errors='replace')[-1500:]}")
    measured = Measured(
        out.decode(), usage["wall_s"], usage["maxrss_kib"] / 1024, usage["cpu_s"], usage["returncode"]
    )
    return Watched(measured, samples)


def _sample(report: Path, at_s: float) -> Sample | None:
    """The memory of the command `bench.measure` runs (its pid is in `report`); None when it is
    not known yet or already gone."""
    try:
        pid = json.loads(report.read_text())["pid"]
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError, KeyError):
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    try:
        rss, hwm = (int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    except (KeyError, ValueError):
        return None
    return Sample(at_s, rss, hwm, None)


@dataclass
class Postgres:
    """One embedded PostgreSQL server for the run (the tests' `PostgresCluster`, which keeps its
    socket path short whatever the temporary directory); `database()` makes a fresh database."""

    cluster: Any = None
    _count: int = field(default=0)

    async def start(self) -> Postgres:
        from tests.databases import PostgresCluster  # noqa: PLC0415 (only the PostgreSQL scenarios need it)

        self.cluster = await asyncio.to_thread(PostgresCluster)
        return self

    async def database(self, prefix: str) -> str:
        self._count += 1
        url: str = await self.cluster.create(f"{prefix}_{self._count}")
        return url

    async def stop(self) -> None:
        if self.cluster is not None:
            await asyncio.to_thread(self.cluster.stop)
            self.cluster = None
