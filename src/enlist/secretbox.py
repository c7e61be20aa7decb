"""Secrets encrypted at rest (Fernet: AES-128-CBC with HMAC-SHA256): the provisioning Secret tokens
and both services' notification webhook secrets.

The key comes from settings (`ENLIST_SECRET_KEY`) or is generated once into the data directory.
Older keys listed in `ENLIST_PREVIOUS_SECRET_KEYS` still decrypt, so an operator rotates the key
by adding the new one, re-sealing every stored token (`enlist provisioning reseal-secrets`), then
dropping the old one. A token is never printed back or logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from enlist.settings import Settings


class SecretError(RuntimeError):
    """A stored secret that none of the configured keys decrypts."""


@dataclass(frozen=True, slots=True)
class SecretBox:
    fernet: MultiFernet

    def seal(self, plain: str) -> str:
        return self.fernet.encrypt(plain.encode()).decode()

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the current key (it may have been sealed under a previous one)."""
        try:
            return self.fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SecretError(
                "a stored Secret token cannot be decrypted with the configured keys; "
                "set ENLIST_PREVIOUS_SECRET_KEYS to the key it was sealed with"
            ) from None

    def open(self, sealed: str) -> str:
        try:
            return self.fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretError(
                "a stored Secret token cannot be decrypted with the configured keys; "
                "set ENLIST_PREVIOUS_SECRET_KEYS to the key it was sealed with"
            ) from None


def load_secret_box(settings: Settings) -> SecretBox:
    if settings.secret_key is not None:
        current = settings.secret_key.get_secret_value().encode()
    else:
        current = _generated(settings.data_dir / "secret-key")
    keys = [Fernet(current)]
    keys += [Fernet(k.strip().encode()) for k in settings.previous_secret_keys.split(",") if k.strip()]
    return SecretBox(MultiFernet(keys))


def _generated(path: Path) -> bytes:
    """Read the key file, creating it (mode 0600) on first use, safely against a concurrent start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race; its key is the one
        finally:
            temporary.unlink()
    return path.read_bytes().strip()
