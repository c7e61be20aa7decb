"""`enlist` starts with what the command needs: `--help` loads no database, web or engine library,
and a command that reads the database loads no web server (issue 13, Start-up).

Each check runs the command in a fresh interpreter and reads its `sys.modules` at exit, so it
counts imports rather than timing them (`make bench`'s startup row has the times).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from enlist.cli import main
from enlist.cli.lazy import LazyGroup

# What costs a `--help` most (python -X importtime, docs/performance.md): the database stack,
# the web stack, the engine's HTTP client, crypto, directory and mail clients, metrics, YAML.
HEAVY = frozenset(
    {
        "sqlalchemy",
        "alembic",
        "starlette",
        "uvicorn",
        "jinja2",
        "httpx2",
        "cryptography",
        "ldap",
        "prometheus_client",
        "aiosmtplib",
        "yaml",
    }
)
WEB_SERVER = frozenset({"starlette", "uvicorn", "jinja2"})


_PROBE = """
import json, sys
from enlist.cli import main
sys.argv = ["enlist", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
with open(OUT, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def imported_by(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """Run `enlist ARGS…` in a fresh interpreter: its exit code and the top-level packages it imported."""
    out = tmp_path / "modules.json"
    script = _PROBE.replace("OUT", repr(str(out)))
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(args)],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.exists(), done.stderr
    found = json.loads(out.read_text())
    return found["code"], {name.partition(".")[0] for name in found["modules"]}


def command_paths(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the tree under `command`, with its path of names (loads every module)."""
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None, (path, name)
            yield from command_paths(sub, (*path, name))


ALL = list(command_paths(main))
# Every group, and every command `enlist --help` lists (`demo` is a command, not a group).
GROUPS = [path for path, command in ALL if isinstance(command, click.Group) or len(path) == 1]


@pytest.mark.parametrize("path", [pytest.param(path, id=" ".join(path) or "enlist") for path in GROUPS])
def test_every_group_help_imports_no_heavy_library(path: tuple[str, ...], tmp_path: Path) -> None:
    code, modules = imported_by([*path, "--help"], tmp_path)
    assert code == 0
    assert modules & HEAVY == set()


@pytest.mark.parametrize("path", [pytest.param(path, id=" ".join(path) or "enlist") for path, _ in ALL])
def test_every_command_of_the_tree_still_answers_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="enlist")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(" ".join(("Usage: enlist", *path)))


def _lazy_entries() -> Iterator[tuple[str, str, str]]:
    for path, command in ALL:
        if isinstance(command, LazyGroup):
            for name, entry in command.lazy.items():
                yield (
                    " ".join((*path, name)),
                    entry.summary,
                    command.commands[name].get_short_help_str(10_000),
                )


@pytest.mark.parametrize(("path", "summary", "real"), list(_lazy_entries()))
def test_every_lazy_help_line_is_the_commands_own(path: str, summary: str, real: str) -> None:
    assert summary == real, path


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["lms", "tenant", "list", "--json"], id="lms tenant list"),
        pytest.param(
            ["provisioning", "app", "status", "startup-app", "--json"], id="provisioning app status"
        ),
    ],
)
def test_a_command_that_reads_the_database_loads_no_web_server(args: list[str], tmp_path: Path) -> None:
    env = {"ENLIST_DATA_DIR": str(tmp_path / "data")}
    created, _ = imported_by(["provisioning", "app", "create", "startup-app"], tmp_path, env)
    assert created == 0
    code, modules = imported_by(args, tmp_path, env)
    assert code == 0
    assert "sqlalchemy" in modules  # it did read the database
    assert modules & WEB_SERVER == set()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["lms", "tenant", "list", "--json"], id="lms tenant list"),
        pytest.param(
            ["provisioning", "app", "status", "startup-app", "--json"], id="provisioning app status"
        ),
    ],
)
def test_a_command_on_a_database_at_head_loads_no_migration_tool(args: list[str], tmp_path: Path) -> None:
    env = {"ENLIST_DATA_DIR": str(tmp_path / "data")}
    created, _ = imported_by(["provisioning", "app", "create", "startup-app"], tmp_path, env)
    assert created == 0
    first, on_a_new_database = imported_by(args, tmp_path, env)  # the portal's is new: migrated
    assert first == 0
    code, modules = imported_by(args, tmp_path, env)
    assert code == 0
    assert "alembic" in on_a_new_database or args[0] == "provisioning"
    assert modules & {"alembic", "mako"} == set()


def test_the_source_options_defaults_shown_by_help_are_the_operations_own() -> None:
    from enlist.cli import provisioning_sources as cli  # noqa: PLC0415 (after the probes above)
    from enlist.provisioning.sources import operations  # noqa: PLC0415
    from enlist.provisioning.sources.push import operations as push_operations  # noqa: PLC0415

    assert (cli.GRAPH_URL, cli.LOGIN_URL) == (operations.GRAPH_URL, operations.LOGIN_URL)
    assert cli.DEFAULT_OVERLAP_MINUTES == push_operations.DEFAULT_OVERLAP_MINUTES
