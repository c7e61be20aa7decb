"""A real SMTP server (aiosmtpd) and a real webhook receiver, both on loopback, and the
provisioning service configured to mail through the one and post to the other."""

from __future__ import annotations

import email
import http.server
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from enlist.db.database import Database
from enlist.provisioning.service import Service
from enlist.secretbox import load_secret_box
from enlist.settings import Settings

WEBHOOK_SECRET = "webhook-secret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted. `on_mail` / `on_data` run inside the server's MAIL FROM and
    DATA handlers, before it answers: a test kills the sender there."""

    port: int = 0
    messages: list[Message] = field(default_factory=list)
    on_mail: Callable[[], None] | None = None
    on_data: Callable[[], None] | None = None

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.on_mail is not None:
            self.on_mail()
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        if self.on_data is not None:
            self.on_data()
        return "250 Message accepted for delivery"

    def about(self, application: str) -> list[Message]:
        return [m for m in self.messages if f"] {application}:" in str(m["Subject"])]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class WebhookReceiver(http.server.ThreadingHTTPServer):
    """Records every POST; answers `statuses` in turn (then 200). `on_request` runs before it answers."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self.on_request: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
        if self.server.on_request is not None:
            self.server.on_request()
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.shutdown()
    receiver.server_close()


@pytest.fixture
def smtp_settings(settings: Settings, provisioning_database_url: str, mailbox: Mailbox) -> Settings:
    return settings.model_copy(
        update={
            "provisioning_database_url": provisioning_database_url,
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "smtp_security": "none",
            "smtp_from": "enlist@example.test",
        }
    )


@pytest.fixture
async def notifying(smtp_settings: Settings) -> AsyncIterator[Service]:
    """The provisioning service, mailing through the test's SMTP server."""
    db = Database(smtp_settings.provisioning_url())
    yield Service(smtp_settings, db, load_secret_box(smtp_settings))
    await db.dispose()
