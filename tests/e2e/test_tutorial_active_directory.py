"""docs/tutorial/provision-from-active-directory.md, run as a reader runs it.

Every command of the page runs in order in `bash` from the clone's root (tests/e2e/
tutorial_runner.py), against a real Samba AD DC seeded as the page's step 1 seeds it, `enlist lms
serve` and the `enlist` commands; each must exit as the page implies and print every line the page
shows. What differs from a reader's terminal: the DC is started by the test (the page's step 1
runs it in a terminal of its own, in the foreground, on a loopback address of its own, which
replaces the page's `127.0.0.156`), `make install` is the test run's own, the portal's port and
the Secret token placeholder are rewritten. At the end the portal holds what the page says. On
SQLite (the page's own set-up) and on PostgreSQL (both services' databases).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_tutorial_entra_through_graph import _environment, _portal_groups, _portal_users
from tests.e2e.tutorial_runner import ROOT, Step, Terminal, missing_lines, steps_of
from tests.ldap_servers.samba import SambaDC, start_samba_dc, unavailable_reason
from tests.ldap_servers.samba_seed import seed_tutorial_domain
from tests.live import free_port

PAGE = ROOT / "docs" / "tutorial" / "provision-from-active-directory.md"
PAGE_ADDRESS = "127.0.0.156"
TOKEN_PLACEHOLDER = "enl_…"
NOT_RUN = ("cd path/to/enlist", "python -m tests.ldap_servers.samba")  # the test's own (see above)
# What the page's step 7 says reaches the portal: Learning Staff, nested groups flattened.
ACTIVE = {"ada@example.test": True, "grace@example.test": True}
GROUPS = {
    "Learning Staff": {"ada@example.test", "grace@example.test"},
    "Trainers": {"grace@example.test"},
}


def test_the_page_walks_the_source_commands() -> None:
    commands = [step.command for step in steps_of(PAGE.read_text())]
    for needed in (
        "python -m tests.ldap_servers.samba",
        "enlist provisioning source add corp --kind ldap",
        "enlist provisioning source test corp",
        "enlist provisioning source sync corp --json",
        "ldapmodify -x",
        "enlist provisioning app sync Portal --json",
    ):
        assert any(needed in command for command in commands), needed


@pytest.fixture
def tutorial_dc(tmp_path: Path) -> Iterator[SambaDC]:
    """A DC of the test's own, seeded as the page's step 1 seeds it (the page deletes in it)."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"Samba AD DC unavailable: {reason}")
    dc = start_samba_dc(tmp_path / "dc")
    try:
        seed_tutorial_domain(dc)
        yield dc
    finally:
        dc.stop()


@pytest.mark.slow
async def test_the_tutorial_provisions_the_domain_into_the_portal(
    database_kind: str,
    lms_database_url: str,
    provisioning_database_url: str,
    tmp_path: Path,
    tutorial_dc: SambaDC,
) -> None:
    urls: dict[str, str] = {}
    if database_kind == "postgres":
        urls["ENLIST_LMS_DATABASE_URL"] = lms_database_url
        urls["ENLIST_PROVISIONING_DATABASE_URL"] = provisioning_database_url
    portal = free_port()
    token: list[str] = []

    def rewrite(text: str) -> str:
        text = re.sub(r"\b8300\b", str(portal), text).replace(PAGE_ADDRESS, tutorial_dc.address)
        return text.replace(TOKEN_PLACEHOLDER, token[0]) if token else text

    env = _environment(urls)
    env["TMPDIR"] = str(tmp_path)
    terminal = Terminal(env, rewrite, servers={"enlist lms serve": f"http://127.0.0.1:{portal}/healthz"})
    try:
        for step in steps_of(PAGE.read_text()):
            if step.command.startswith(NOT_RUN):
                continue
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
