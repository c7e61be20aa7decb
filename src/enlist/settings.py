"""Settings: the only place enlist reads its environment.

Every setting has an `ENLIST_` variable; `load_settings()` is called once by the entry point
(the CLI, `create_app`) and the result is passed down. Nothing reads `os.environ` elsewhere.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
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
    max_group_body_bytes: int = Field(
        default=16_777_216,
        description=(
            "Largest SCIM request body accepted on /Groups and /Groups/{id}: a PUT or PATCH of a "
            "group's whole member list (50,000 members at most)."
        ),
    )
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
    target_networks_allow: str = Field(
        default="",
        description=(
            "Comma-separated networks (CIDR) the provisioning engine may send requests to; empty: any "
            "address not denied. Checked on the resolved address of every connection."
        ),
    )
    target_networks_deny: str = Field(
        default="169.254.0.0/16,fe80::/10,fd00:ec2::254/128,100.100.100.200/32,168.63.129.16/32",
        description=(
            "Comma-separated networks (CIDR) the provisioning engine never sends requests to, even "
            "when allowed; by default link-local and cloud metadata addresses. Setting it replaces "
            "the default list."
        ),
    )
    request_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "A request (SCIM, API or admin page, of either service) still running after this long is "
            "answered 503 and its transaction rolled back; on PostgreSQL also the portal's statement_timeout."
        ),
    )

    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto are believed. Empty (the default): no forwarded header is believed, the "
            "client is the connection's peer."
        ),
    )
    http_max_header_bytes: int = Field(
        default=32_768, ge=1024, description="Largest request line plus headers accepted (else 431)."
    )
    http_max_headers: int = Field(
        default=100, ge=8, description="Most header lines a request may carry (else 431)."
    )
    http_header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time a client has to send a request's line and headers (else 408)."
    )
    http_body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Longest pause between two parts of a request body (else 408)."
    )
    http_max_connections_per_client: int = Field(
        default=100,
        ge=1,
        description=(
            "Open connections one client address may hold (per process); more are answered 429 and "
            "closed. Trusted proxies are exempt."
        ),
    )

    smtp_host: str = Field(
        default="", description="SMTP server notifications are mailed through; empty: no email is sent."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="The SMTP server's port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="`starttls` (upgrade on the port, 587), `tls` (TLS from the start, 465) or `none`.",
    )
    smtp_user: str = Field(default="", description="SMTP user name; empty: no authentication.")
    smtp_password: SecretStr | None = Field(
        default=None,
        description=(
            "SMTP password: plain, or sealed with the secret key (`enlist provisioning notify "
            "seal-password`, a value starting `sealed:`) so it is encrypted at rest where it is kept."
        ),
    )
    smtp_from: str = Field(default="enlist@localhost", description="The From address of notification mails.")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="Longest wait for the SMTP server.")
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description=(
            "How the serving commands write their log lines on stderr: json (one object a line), "
            "text, or auto (text on a terminal, JSON otherwise). --log-format overrides it."
        ),
    )

    @field_validator("target_networks_allow", "target_networks_deny")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in filter(None, (i.strip() for i in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not a network (CIDR such as 10.0.0.0/8)") from None
        return value

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
