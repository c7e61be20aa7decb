"""Secrets at rest are stored in the forms docs/explanation/security-model.md promises: a target
Secret token only as a Fernet token under the service's key, a portal Secret token only as
`HMAC-SHA256(pepper, secret)`; neither the plaintext nor the pepper or key appears anywhere in
the database files (main file, WAL, shared memory), byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import SecretStr

from enlist.lms.api.runtime import Portal
from enlist.lms.domain.tokens import split
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.tables import secret_tokens
from enlist.provisioning.mapping.mappings import default_group_mapping, default_user_mapping, mapping_to_json
from enlist.provisioning.service import Service
from enlist.provisioning.store import apps as app_store
from enlist.provisioning.store.tables import applications
from enlist.secretbox import SecretError, load_secret_box


@pytest.fixture(params=["sqlite"])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def database_bytes(url: str) -> bytes:
    """Everything SQLite keeps for the database at `url`: the file, its WAL and shared memory."""
    path = Path(url.split(":///", 1)[1])
    return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))


async def test_a_target_secret_token_is_stored_only_as_a_fernet_token(service: Service) -> None:
    plain = f"target-token-{secrets.token_urlsafe(32)}"
    async with service.db.write() as conn:
        created = await app_store.create_app(
            conn, "Sealed", mapping_to_json(default_user_mapping()), mapping_to_json(default_group_mapping())
        )
        await app_store.connect(conn, created, "https://target.test/scim", service.secrets.seal(plain))
    async with service.db.read() as conn:
        stored = (
            await conn.execute(sa.select(applications.c.secret_token).where(applications.c.id == created.id))
        ).scalar_one()

    assert plain not in stored
    key_file = service.settings.data_dir / "secret-key"
    key = key_file.read_bytes().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert Fernet(key).decrypt(stored.encode()).decode() == plain, "sealed under the service's key"
    on_disk = database_bytes(service.db.url)
    assert plain.encode() not in on_disk
    assert key not in on_disk, "the key is not kept with the data it protects"

    # Another key (ENLIST_SECRET_KEY set, the old one not listed as previous) cannot open it.
    other = SecretStr(Fernet.generate_key().decode())
    box = load_secret_box(service.settings.model_copy(update={"secret_key": other}))
    with pytest.raises(SecretError, match="ENLIST_PREVIOUS_SECRET_KEYS"):
        box.open(stored)


async def test_a_portal_secret_token_is_stored_only_as_an_hmac_of_its_secret(portal: Portal) -> None:
    async with portal.db.write() as conn:
        tenant = await tenant_store.create_tenant(conn, "Digests")
        token = await tenant_store.add_token(conn, tenant, portal.peppers.current)
    parts = split(token)
    assert parts is not None
    key_id, secret = parts
    async with portal.db.read() as conn:
        row = (await conn.execute(sa.select(secret_tokens).where(secret_tokens.c.key_id == key_id))).one()

    pepper = portal.peppers.current
    assert row.digest == hmac.new(pepper.secret, secret.encode(), hashlib.sha256).hexdigest()
    assert row.pepper_id == hashlib.sha256(pepper.secret).hexdigest()[:8]
    on_disk = database_bytes(portal.db.url)
    assert secret.encode() not in on_disk
    assert token.encode() not in on_disk
    assert pepper.secret not in on_disk, "the pepper is not kept with the digests"
    # A plain SHA-256 of the secret (no pepper) is not what is stored: the database alone
    # cannot be used to check a guessed token.
    assert hashlib.sha256(secret.encode()).hexdigest().encode() not in on_disk
