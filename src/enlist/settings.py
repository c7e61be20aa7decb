"""Settings: the only place enlist reads its environment.

Every setting has an `ENLIST_` variable; `load_settings()` is called once by the entry point
(the CLI, `create_app`) and the result is passed down. Nothing reads `os.environ` elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What an operator can set. Defaults run the whole system on one machine with SQLite."""

    model_config = SettingsConfigDict(env_prefix="ENLIST_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Where SQLite files and secrets live.")
    lms_database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the portal's database; SQLite in data_dir when unset."
    )
    lms_public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base of every Tenant URL the portal prints."
    )
    token_pepper: SecretStr | None = Field(
        default=None,
        description=(
            "Server-side secret mixed into every Secret token digest. When unset, one is generated "
            "once into data_dir/token-pepper."
        ),
    )
    previous_token_peppers: str = Field(
        default="",
        description="Comma-separated older peppers, still accepted while tokens are re-minted (rotation).",
    )
    provisioning_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the provisioning service's database; SQLite in data_dir when unset.",
    )
    provisioning_public_url: str = Field(
        default="http://127.0.0.1:8001", description="Where the provisioning service's pages are reached."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key (Fernet, urlsafe base64 of 32 bytes) that encrypts target Secret tokens at rest. When "
            "unset, one is generated once into data_dir/secret-key."
        ),
    )
    previous_secret_keys: str = Field(
        default="",
        description="Comma-separated older keys, still able to decrypt while secrets are re-encrypted.",
    )
    scheduler_poll_seconds: float = Field(
        default=5.0, description="How often the scheduler looks for due cycles."
    )
    max_body_bytes: int = Field(default=1_048_576, description="Largest SCIM request body accepted.")
    max_directory_file_bytes: int = Field(
        default=268_435_456,
        ge=1,
        description="Largest directory file an import reads (the CLI; the page also keeps max_body_bytes).",
    )
    failed_token_limit: int = Field(
        default=20,
        ge=1,
        description=(
            "Failed Secret token attempts one client address may make against one tenant within "
            "failed_token_window_seconds before further failures are answered 429 (per process)."
        ),
    )
    failed_token_window_seconds: float = Field(
        default=60.0, gt=0, description="The sliding window over which failed token attempts are counted."
    )
    request_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "A SCIM request still running after this long is answered 503 and its transaction rolled back."
        ),
    )

    def lms_url(self) -> str:
        """The portal's database URL, defaulting to SQLite (WAL) in the data directory."""
        if self.lms_database_url:
            return normalise_database_url(self.lms_database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'lms.sqlite3').resolve()}"

    def provisioning_url(self) -> str:
        """The provisioning service's database URL, defaulting to SQLite (WAL) in the data directory."""
        if self.provisioning_database_url:
            return normalise_database_url(self.provisioning_database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'provisioning.sqlite3').resolve()}"


def normalise_database_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite://` URLs and pick the async driver we ship."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; keyword overrides win (used by the CLI and the tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
