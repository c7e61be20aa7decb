"""`enlist provisioning reseal-secrets` re-seals sources' secrets too: after the key rotation of
docs/how-to/rotate-pepper-and-encryption-key.md (new key, old one as previous, reseal, drop the
old key) a Graph source still signs in, with its client secret or its certificate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from enlist.cli import main
from tests.fakes.graph.app import FakeGraph
from tests.fakes.graph.threaded import serve_in_thread
from tests.integration.sources.graph_helpers import CLIENT_ID, SECRET, make_certificate


def _run(data_dir: Path, key: str, previous: str, *args: str, stdin: str | None = None) -> Any:
    env = {
        "ENLIST_DATA_DIR": str(data_dir),
        "ENLIST_PROVISIONING_DATABASE_URL": "",
        "ENLIST_SECRET_KEY": key,
        "ENLIST_PREVIOUS_SECRET_KEYS": previous,
    }
    result = CliRunner().invoke(main, ["provisioning", *args, "--json"], env=env, input=stdin)
    assert SECRET not in result.output
    assert "PRIVATE KEY" not in result.output
    return result


@pytest.mark.parametrize("credential", ["client secret", "certificate"])
def test_a_graph_source_signs_in_after_the_key_is_rotated_and_the_old_one_dropped(
    tmp_path: Path, credential: str
) -> None:
    fake = FakeGraph()
    certificate = make_certificate()
    pem = tmp_path / "app.pem"
    pem.write_bytes(certificate.certificate_pem + certificate.private_key_pem)
    if credential == "client secret":
        fake.tenant.register_app(CLIENT_ID, secret=SECRET)
        given = ["--client-secret", "-"]
    else:
        fake.tenant.register_app(CLIENT_ID, certificate_pem=certificate.certificate_pem)
        given = ["--certificate", str(pem)]
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    data = tmp_path / "data"
    with serve_in_thread(fake):
        added = _run(
            data,
            old,
            "",
            "source",
            "add",
            "entra",
            "--kind",
            "graph",
            "--tenant-id",
            fake.tenant.tenant_id,
            "--client-id",
            CLIENT_ID,
            *given,
            "--graph-url",
            fake.graph_base,
            "--login-url",
            fake.auth_base,
            stdin=SECRET + "\n",
        )
        assert added.exit_code == 0, added.output

        resealed = _run(data, new, old, "reseal-secrets")
        assert resealed.exit_code == 0, resealed.output
        assert json.loads(resealed.stdout) == {"resealed": 0, "sources_resealed": 1}

        tested = _run(data, new, "", "source", "test", "entra")
        assert tested.exit_code == 0, tested.output
        assert json.loads(tested.stdout)["ok"] is True
    stored = (data / "provisioning.sqlite3").read_bytes()
    assert SECRET.encode() not in stored
