"""The token peppers (Secret tokens, API tokens of both services): from settings, or generated
once into the data directory."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from enlist.settings import Settings
from enlist.web.tokens import Pepper


@dataclass(frozen=True, slots=True)
class Peppers:
    """The pepper new tokens are minted with, and every pepper a stored token may name."""

    current: Pepper
    known: dict[str, Pepper]


def load_peppers(settings: Settings) -> Peppers:
    if settings.token_pepper is not None:
        current = Pepper(settings.token_pepper.get_secret_value().encode())
    else:
        current = Pepper(_generated(settings.data_dir / "token-pepper"))
    known = {current.pepper_id: current}
    for text in settings.previous_token_peppers.split(","):
        if text.strip():
            old = Pepper(text.strip().encode())
            known[old.pepper_id] = old
    return Peppers(current, known)


def _generated(path: Path) -> bytes:
    """Read the pepper file, creating it (mode 0600) on first use. Written to a temporary file
    and linked into place, so a process starting at the same time never reads half a pepper."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race; its pepper is the one
        finally:
            temporary.unlink()
    return path.read_text().strip().encode()
