"""`make run` is `enlist demo`: the whole flow on one machine, run here as a user would."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx2

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
