"""The admin account and session store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from enlist.lms.api.runtime import Portal
from enlist.web import accounts

PASSWORD = "correct horse battery staple"


async def test_an_admins_session_opens_until_it_expires_or_is_closed(portal: Portal) -> None:
    async with portal.db.write() as conn:
        ann = await accounts.create_admin(conn, "Ann@Example.com", PASSWORD, "acme")
        assert ann.email == "ann@example.com"
        cookie, session = await accounts.open_session(conn, ann)
    async with portal.db.read() as conn:
        assert await accounts.check_credentials(conn, "ANN@example.com", PASSWORD) == ann
        assert await accounts.check_credentials(conn, "ann@example.com", PASSWORD + "x") is None
        assert await accounts.check_credentials(conn, "nobody@example.com", PASSWORD) is None
        assert await accounts.check_credentials(conn, "not an email", PASSWORD) is None
        found = await accounts.find_session(conn, cookie)
        assert found == session
        assert found.admin.may_see("acme")
        assert not found.admin.may_see("globex")
        assert (
            await accounts.find_session(conn, cookie, now=session.expires_at + timedelta(seconds=1)) is None
        )
        assert await accounts.find_session(conn, cookie + "x") is None
        assert await accounts.find_session(conn, "x" * 500) is None
    async with portal.db.write() as conn:
        await accounts.close_session(conn, cookie)
    async with portal.db.read() as conn:
        assert await accounts.find_session(conn, cookie) is None


async def test_removing_an_admin_removes_their_sessions(portal: Portal) -> None:
    async with portal.db.write() as conn:
        ann = await accounts.create_admin(conn, "ann@example.com", PASSWORD)
        cookie, _ = await accounts.open_session(conn, ann)
        assert await accounts.delete_admin(conn, "ann@example.com")
        assert not await accounts.delete_admin(conn, "ann@example.com")
    async with portal.db.read() as conn:
        assert await accounts.find_session(conn, cookie) is None
        assert await accounts.list_admins(conn) == []


async def test_opening_a_session_sweeps_expired_ones(portal: Portal) -> None:
    long_ago = datetime.now(UTC) - accounts.SESSION_LIFETIME - timedelta(hours=1)
    async with portal.db.write() as conn:
        ann = await accounts.create_admin(conn, "ann@example.com", PASSWORD)
        old, _ = await accounts.open_session(conn, ann, now=long_ago)
    async with portal.db.read() as conn:
        assert await accounts.find_session(conn, old, now=long_ago) is not None  # it was live then
    async with portal.db.write() as conn:
        await accounts.open_session(conn, ann)
    async with portal.db.read() as conn:
        assert await accounts.find_session(conn, old, now=long_ago) is None  # swept


@pytest.mark.parametrize("email", ["", "ann", "ann@", "@example.com", "ann @example.com", "ann@localhost"])
async def test_an_admin_needs_an_email_address(portal: Portal, email: str) -> None:
    async with portal.db.write() as conn:
        with pytest.raises(ValueError, match="not an email address"):
            await accounts.create_admin(conn, email, PASSWORD)
