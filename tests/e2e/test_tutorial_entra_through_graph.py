"""docs/tutorial/provision-from-entra-through-graph.md, run as a reader runs it.

Every command of the page runs in order in `bash` from the clone's root, against real
processes: `make fake-graph` (the fake Graph with its demo tenant), `enlist lms serve`, and the
`enlist` commands, which read the fake over HTTP and provision the portal over HTTP. Each
command must exit as the page implies and print every line the page shows (tests/e2e/
tutorial_runner.py). Two things differ from a reader's terminal, both by rewriting the page's
text: the page's ports (8300, 8410, 8411) become free ones, and the Secret token placeholder
`enl_…` becomes the token `lms tenant create` printed. At the end the portal's users and
groups are compared with what the page says Entra ID holds. On SQLite (the page's own set-up)
and on PostgreSQL (both services' databases).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import httpx2
import pytest

from tests.e2e.tutorial_runner import ROOT, Step, Terminal, missing_lines, steps_of
from tests.live import free_port

PAGE = ROOT / "docs" / "tutorial" / "provision-from-entra-through-graph.md"
TOKEN_PLACEHOLDER = "enl_…"
# What the page's last section says the portal holds.
ACTIVE = {
    "ada@contoso.com": True,
    "alan.turing@contoso.com": True,
    "bob@contoso.com": True,
    "dan@contoso.com": True,
    "eve@contoso.com": True,
    "mia@contoso.com": True,
    "grace@contoso.com": False,
}
GROUPS = {
    "Engineering": {"ada@contoso.com", "alan.turing@contoso.com"},
    "Platform": {"ada@contoso.com", "alan.turing@contoso.com"},
    "Sales": {"bob@contoso.com", "dan@contoso.com", "eve@contoso.com", "mia@contoso.com"},
}


def test_the_page_runs_every_source_command_and_the_delta_round() -> None:
    """The parser finds the commands the issue asks the tutorial to walk through."""
    commands = [step.command for step in steps_of(PAGE.read_text())]
    for needed in (
        "make fake-graph",
        "enlist provisioning source add entra --kind graph --tenant-id contoso.onmicrosoft.com",
        "enlist provisioning source test entra",
        "enlist provisioning source sync entra --json",
        "enlist provisioning app sync Portal --json",
        "python -m tests.fakes.graph change rename",
        "python -m tests.fakes.graph change delete",
        "python -m tests.fakes.graph change restore",
        "python -m tests.fakes.graph change manager",
        "python -m tests.fakes.graph change add-member",
    ):
        assert any(needed in command for command in commands), needed


def _environment(database_urls: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENLIST_", "FAKE_GRAPH_", "VIRTUAL_ENV"))}
    # Children keep compiled bytecode in a cache of their own (tests/live.py says why).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / f"enlist-pycache-{os.getuid()}")
    env.update(database_urls)
    return env


@pytest.mark.slow
async def test_the_tutorial_provisions_the_graph_tenant_into_the_portal(
    database_kind: str, lms_database_url: str, provisioning_database_url: str, tmp_path: Path
) -> None:
    # On SQLite the page's own set-up (databases in ENLIST_DATA_DIR); the fixtures' are unused.
    urls: dict[str, str] = {}
    if database_kind == "postgres":
        urls["ENLIST_LMS_DATABASE_URL"] = lms_database_url
        urls["ENLIST_PROVISIONING_DATABASE_URL"] = provisioning_database_url
    portal, auth, graph = free_port(), free_port(), free_port()
    ports = {"8300": str(portal), "8410": str(auth), "8411": str(graph)}
    token: list[str] = []

    def rewrite(text: str) -> str:
        text = re.sub(r"\b(8300|8410|8411)\b", lambda m: ports[m.group(1)], text)
        return text.replace(TOKEN_PLACEHOLDER, token[0]) if token else text

    env = _environment(urls)
    env["TMPDIR"] = str(tmp_path)  # the page's `mktemp -d` data directory goes with the test's
    env["FAKE_GRAPH_ARGS"] = f"--auth-port {auth} --graph-port {graph}"
    env["FAKE_GRAPH_URL"] = f"http://127.0.0.1:{graph}"
    terminal = Terminal(
        env,
        rewrite,
        servers={
            "make fake-graph": f"http://127.0.0.1:{graph}/healthz",
            "enlist lms serve": f"http://127.0.0.1:{portal}/healthz",
        },
    )
    try:
        for step in steps_of(PAGE.read_text()):
            printed = terminal.run(step)
            shown = Step(step.command, [rewrite(line) for line in step.shown])
            missing = missing_lines(shown, printed)
            assert not missing, f"{step.command} did not print {missing}; it printed:\n{printed}"
            found = re.search(r"Secret token: (enl_\S+)", printed)
            if found:
                token.append(found.group(1))
        assert token, "the page never created a tenant"
        assert _portal_users(portal, token[0]) == ACTIVE
        assert _portal_groups(portal, token[0]) == GROUPS
    finally:
        terminal.stop()


def _scim(port: int, token: str, path: str) -> list[dict[str, object]]:
    response = httpx2.get(
        f"http://127.0.0.1:{port}/scim/v2/acme{path}",
        params={"count": "100"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["Resources"])


def _portal_users(port: int, token: str) -> dict[str, bool]:
    return {str(u["userName"]): bool(u["active"]) for u in _scim(port, token, "/Users")}


def _portal_groups(port: int, token: str) -> dict[str, set[str]]:
    names = {u["id"]: u["userName"] for u in _scim(port, token, "/Users")}
    return {
        str(g["displayName"]): {str(names[m["value"]]) for m in g.get("members", [])}  # type: ignore[index, union-attr, attr-defined]
        for g in _scim(port, token, "/Groups")
    }
