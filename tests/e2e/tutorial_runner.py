"""Run a tutorial's commands as a reader would, and check what they print against the page.

A tutorial is read as a list of steps, in order:
- each non-empty line of a ```bash block is a command (comments skipped; a line ending in a backslash
  goes on on the next one);
- in a ```text block, a line starting with `$ ` is a command, and the lines after it (to the
  next `$ ` or the block's end) are what the page shows it printing.

Commands run one by one in `bash` from the clone's root, with the shell's exported variables
carried from one to the next (as in one terminal). A server command (one ending in `&`, or one
the caller names, like a `make` target a reader runs in another terminal) is started in a
session of its own, waited for on its `/healthz`, and stopped at the end.

What a page shows is checked as a reader would compare: every shown line must be a line the
command printed (stdout and stderr together), `…` standing for any text; the order is not
checked (concurrent writes are logged in any order). A command whose shown output has a line
starting `error:` or `FAILED:` must exit 1; every other must exit 0.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass
class Step:
    command: str
    shown: list[str] = field(default_factory=list)

    @property
    def fails(self) -> bool:
        return any(line.startswith(("error:", "FAILED:")) for line in self.shown)


def steps_of(markdown: str) -> list[Step]:
    """The page's commands, in order, each with the output the page shows for it."""
    steps: list[Step] = []
    language: str | None = None
    for line in markdown.splitlines():
        fence = _FENCE.match(line)
        if fence:
            language = fence.group(1) if language is None else None
        elif language == "bash" and steps and steps[-1].command.endswith("\\"):
            steps[-1].command = steps[-1].command[:-1] + " " + line.strip()  # a continued line
        elif language == "bash" and line.strip() and not line.lstrip().startswith("#"):
            steps.append(Step(line.strip()))
        elif language == "text" and line.startswith("$ "):
            steps.append(Step(line[2:].strip()))
        elif language == "text" and steps and line.strip():
            steps[-1].shown.append(line.rstrip())
    return steps


def shown_line_matches(shown: str, printed: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in shown.strip().split("…"))
    return re.fullmatch(pattern, printed.strip()) is not None


def missing_lines(step: Step, printed: str) -> list[str]:
    """The lines the page shows that the command did not print."""
    lines = printed.splitlines()
    return [s for s in step.shown if not any(shown_line_matches(s, p) for p in lines)]


@dataclass
class Terminal:
    """One shell session: exported variables persist between commands, servers are stopped at
    the end. `rewrite` turns a page's command into the one to run (ports, placeholders)."""

    env: dict[str, str]
    rewrite: Callable[[str], str] = lambda command: command
    servers: Mapping[str, str] = field(default_factory=dict)  # command prefix -> its /healthz URL
    started: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    def run(self, step: Step) -> str:
        command = self.rewrite(step.command)
        health = next((url for prefix, url in self.servers.items() if command.startswith(prefix)), None)
        if health is not None:
            return self._server(command.removesuffix("&").strip(), health)
        with tempfile.NamedTemporaryFile(prefix="env-", delete=False) as saved:
            env_file = Path(saved.name)
        script = f"set -a\n{command}\nrc=$?\nenv -0 > {env_file}\nexit $rc\n"
        try:
            done = subprocess.run(
                ["bash", "-c", script],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            printed = done.stdout + done.stderr
            self.transcript.append(f"$ {command}\n{printed}")
            expected = 1 if step.fails else 0
            assert done.returncode == expected, f"{command} exited {done.returncode}:\n{printed}"
            variables = env_file.read_bytes().split(b"\0")
            self.env = dict(v.decode().split("=", 1) for v in variables if b"=" in v)
        finally:
            env_file.unlink(missing_ok=True)
        return printed

    def _server(self, command: str, health: str) -> str:
        log = Path(tempfile.mkstemp(prefix="server-", suffix=".log")[1])
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-c", f"exec {command}"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((process, log))
        deadline = time.monotonic() + 90  # a loaded 2-core machine can take a while to start Python
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx2.get(health, timeout=1).status_code == 200:
                    time.sleep(0.3)  # the banner is printed right after the server starts
                    return log.read_text()
            except httpx2.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"{command} did not start:\n{log.read_text()}")

    def stop(self) -> None:
        for process, log in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.unlink(missing_ok=True)
