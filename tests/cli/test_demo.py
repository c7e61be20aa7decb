"""`make run` is `enlist demo`: the whole flow on one machine, run here as a user would."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import httpx2
import pytest

from tests.live import ENLIST, LivePortal, free_port


def test_the_demo_provisions_the_portal_and_opens_both_admin_sites(tmp_path: Path) -> None:
    lms_port, provisioning_port = free_port(), free_port()
    env = LivePortal(tmp_path / "var", None).env()
    env.pop("ENLIST_LMS_PUBLIC_URL")
    demo = subprocess.Popen(
        [
            ENLIST,
            "demo",
            "--json",
            "--lms-port",
            str(lms_port),
            "--provisioning-port",
            str(provisioning_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        line = demo.stdout.readline()
        assert line, demo.stderr.read() if demo.stderr else ""
        info = json.loads(line)
        assert info["cycle"]["failed"] == 0
        assert info["cycle"]["created"] > 200
        users = httpx2.get(
            info["tenant_url"] + "/Users?count=0",
            headers={"Authorization": f"Bearer {info['secret_token']}"},
            timeout=30,
        ).json()
        assert users["totalResults"] > 200
        for base in (info["lms_url"], info["provisioning_url"]):
            with httpx2.Client(base_url=base, timeout=30) as browser:
                form = browser.get("/admin/login").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', form)
                assert token
                signed_in = browser.post(
                    "/admin/login",
                    data={
                        "email": info["admin_email"],
                        "password": info["admin_password"],
                        "csrf_token": token.group(1),
                    },
                )
                assert signed_in.status_code == 303, signed_in.text
                assert browser.get(signed_in.headers["location"]).status_code == 200
        assert (tmp_path / "var" / "demo-admin-password").read_text().strip() == info["admin_password"]
    finally:
        demo.terminate()
        demo.communicate(timeout=30)  # also closes both pipes


def _demo_tokens(portal: LivePortal) -> object:
    return json.loads(portal.cli("lms", "tenant", "show", "demo", "--json"))["tokens"]


def _run_demo(portal: LivePortal, lms_port: int, provisioning_port: int) -> subprocess.CompletedProcess[str]:
    env = portal.env()
    env.pop("ENLIST_LMS_PUBLIC_URL")
    return subprocess.run(
        [ENLIST, "demo", "--lms-port", str(lms_port), "--provisioning-port", str(provisioning_port)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("held", ["lms", "provisioning"])
def test_a_port_held_by_another_program_stops_the_demo_with_one_line_and_changes_nothing(
    tmp_path: Path, held: str
) -> None:
    portal = LivePortal(tmp_path / "var", None)
    portal.cli("lms", "tenant", "create", "demo")
    tokens = _demo_tokens(portal)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        lms_port, provisioning_port = (taken, free_port()) if held == "lms" else (free_port(), taken)
        done = _run_demo(portal, lms_port, provisioning_port)
    assert done.returncode == 1
    expected = (
        f"Error: another program is listening on :{taken}; stop it or choose other ports "
        "(--lms-port, --provisioning-port). Nothing was changed."
    )
    assert done.stderr.strip().splitlines() == [expected]
    assert _demo_tokens(portal) == tokens
    assert not (tmp_path / "var" / "provisioning.sqlite3").exists()


def test_a_second_demo_says_another_demo_is_running_and_leaves_its_token_alone(tmp_path: Path) -> None:
    portal = LivePortal(tmp_path / "var", None)
    portal.cli("lms", "tenant", "create", "demo")
    tokens = _demo_tokens(portal)
    portal.start()  # what answers on the demo's portal port: enlist itself
    try:
        done = _run_demo(portal, portal.port, free_port())
    finally:
        portal.stop()
    assert done.returncode == 1
    assert f"another demo (or enlist service) is running on :{portal.port}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert _demo_tokens(portal) == tokens
