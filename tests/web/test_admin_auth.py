"""Sign-in, sessions and CSRF, the same on both admin sites: no page or form without them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from enlist.web import accounts
from enlist.web.signin_throttle import SignInThrottle
from enlist.web.tables import admin_sessions, admins
from tests.web.conftest import Site
from tests.web.session import PASSWORD, csrf_of, make_admin, sign_in


async def test_a_page_without_a_session_sends_the_browser_to_sign_in(site: Site) -> None:
    answer = await site.client.get(site.home + "?q=x")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login?next=" + (site.home + "?q=x").replace(
        "/", "%2F"
    ).replace("?", "%3F").replace("=", "%3D")


async def test_a_form_post_without_a_session_is_refused_and_changes_nothing(site: Site) -> None:
    await make_admin(site.db)
    answer = await site.client.post("/admin/logout", data={"csrf_token": "x"})
    assert answer.status_code == 401
    async with site.db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(admin_sessions)) == 0


async def test_an_htmx_request_without_a_session_gets_a_full_page_redirect(site: Site) -> None:
    answer = await site.client.get(site.home, headers={"HX-Request": "true"})
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == "/admin/login"


async def test_signing_in_opens_the_pages_and_signing_out_closes_them(site: Site) -> None:
    await make_admin(site.db)
    answer = await sign_in(site.client)
    assert answer.status_code == 303
    assert answer.headers["location"] == site.home
    cookie = answer.headers["set-cookie"]
    assert f"{site.cookie}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = await site.client.get(site.home)
    assert page.status_code == 200
    assert "ann@example.com" in page.text
    out = await site.client.post("/admin/logout", headers={"X-CSRF-Token": csrf_of(page)})
    assert out.status_code == 303
    site.client.cookies.clear()
    assert (await site.client.get(site.home)).status_code == 303
    async with site.db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(admin_sessions)) == 0


async def test_a_stolen_cookie_stops_working_after_sign_out(site: Site) -> None:
    await make_admin(site.db)
    await sign_in(site.client)
    stolen = site.client.cookies.get(site.cookie)
    page = await site.client.get(site.home)
    await site.client.post("/admin/logout", headers={"X-CSRF-Token": csrf_of(page)})
    site.client.cookies.set(site.cookie, stolen or "")
    assert (await site.client.get(site.home)).status_code == 303


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(site: Site) -> None:
    await make_admin(site.db)
    wrong = await sign_in(site.client, password="not the password at all")
    unknown = await sign_in(site.client, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or password is not right." in wrong.text
    assert "The email or password is not right." in unknown.text
    assert site.cookie not in wrong.headers.get("set-cookie", "")


async def test_a_sign_in_without_the_forms_token_is_refused(site: Site) -> None:
    await make_admin(site.db)
    answer = await site.client.post(
        "/admin/login", data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert site.cookie not in answer.headers.get("set-cookie", "")


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_a_form_without_the_sessions_csrf_token_is_refused(site: Site, token: str | None) -> None:
    await make_admin(site.db)
    await sign_in(site.client)
    data = {} if token is None else {"csrf_token": token}
    answer = await site.client.post("/admin/logout", data=data)
    assert answer.status_code == 403
    assert "Reload the page" in answer.text
    assert (await site.client.get(site.home)).status_code == 200  # still signed in: nothing happened


async def test_the_csrf_token_in_a_form_field_is_accepted_like_the_header(site: Site) -> None:
    await make_admin(site.db)
    await sign_in(site.client)
    page = await site.client.get(site.home)
    answer = await site.client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303


async def test_another_admins_csrf_token_does_not_open_this_session(site: Site) -> None:
    await make_admin(site.db)
    await make_admin(site.db, "bob@example.com")
    await sign_in(site.client, "bob@example.com")
    bobs = csrf_of(await site.client.get(site.home))
    site.client.cookies.clear()
    await sign_in(site.client)
    answer = await site.client.post("/admin/logout", headers={"X-CSRF-Token": bobs})
    assert answer.status_code == 403


async def test_an_expired_session_is_no_session(site: Site) -> None:
    await make_admin(site.db)
    await sign_in(site.client)
    async with site.db.write() as conn:
        await conn.execute(
            sa.update(admin_sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert (await site.client.get(site.home)).status_code == 303


async def test_removing_an_admin_or_changing_the_password_ends_their_sessions(site: Site) -> None:
    await make_admin(site.db)
    await sign_in(site.client)
    async with site.db.write() as conn:
        await accounts.set_password(conn, "ann@example.com", "another long password")
    assert (await site.client.get(site.home)).status_code == 303
    await sign_in(site.client, password="another long password")
    assert (await site.client.get(site.home)).status_code == 200
    async with site.db.write() as conn:
        assert await accounts.delete_admin(conn, "ANN@example.com")
    assert (await site.client.get(site.home)).status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/admin", "/elsewhere", "/admin\\@evil"]
)
async def test_sign_in_never_redirects_off_the_admin_pages(site: Site, target: str) -> None:
    await make_admin(site.db)
    form = await site.client.get("/admin/login", params={"next": target})
    assert target not in form.text
    answer = await sign_in(site.client)
    assert answer.headers["location"] == site.home


async def test_sign_in_returns_to_the_page_that_asked_for_it(site: Site) -> None:
    await make_admin(site.db)
    first = await site.client.get(site.home)
    form = await site.client.get(first.headers["location"])
    assert f'name="next" value="{site.home}"' in form.text
    import html  # noqa: PLC0415
    import re  # noqa: PLC0415

    token = html.unescape(re.findall(r'name="csrf_token" value="([^"]+)"', form.text)[0])
    answer = await site.client.post(
        "/admin/login",
        data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": token, "next": site.home},
    )
    assert answer.headers["location"] == site.home


async def test_pages_carry_the_security_headers(site: Site) -> None:
    await make_admin(site.db)
    await sign_in(site.client)
    page = await site.client.get(site.home)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


async def test_the_session_cookie_is_secure_behind_https(site: Site) -> None:
    await make_admin(site.db)
    answer = await sign_in(site.client)
    assert "Secure" not in answer.headers["set-cookie"]  # plain http on loopback: a browser would drop it
    site.client.headers["X-Forwarded-Proto"] = "https"
    answer = await sign_in(site.client)
    assert "Secure" in answer.headers["set-cookie"]


async def test_passwords_are_stored_as_argon2id_hashes_only(site: Site) -> None:
    await make_admin(site.db)
    async with site.db.read() as conn:
        stored = await conn.scalar(sa.select(admins.c.password_hash))
        cookie_hashes = (await conn.execute(sa.select(admin_sessions.c.id_hash))).all()
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert cookie_hashes == []


async def test_session_cookies_are_stored_only_as_digests(site: Site) -> None:
    await make_admin(site.db)
    await sign_in(site.client)
    cookie = site.client.cookies.get(site.cookie)
    async with site.db.read() as conn:
        stored = (await conn.execute(sa.select(admin_sessions.c.id_hash))).scalars().all()
    assert cookie
    assert len(stored) == 1
    assert cookie not in stored[0]


async def test_repeated_failed_sign_ins_are_slowed_down(site: Site) -> None:
    await make_admin(site.db)
    for _ in range(5):
        assert (await sign_in(site.client, password="wrong wrong wrong")).status_code == 401
    blocked = await sign_in(site.client)  # the address that failed learns nothing more, right or wrong
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in blocked.text


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_address_guessing_one_account_is_stopped_and_other_addresses_are_not() -> None:
    throttle = SignInThrottle(per_account=3, per_address=10, window_s=60, clock=Clock())
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1", "admin@contoso.example") == 0
        throttle.failed("10.0.0.1", "admin@contoso.example")
    assert throttle.retry_after("10.0.0.1", " Admin@Contoso.example") == 60  # the same account
    assert throttle.retry_after("10.0.0.2", "admin@contoso.example") == 0  # the real admin elsewhere
    assert throttle.retry_after("10.0.0.1", "other@contoso.example") == 0


def test_one_address_trying_many_accounts_is_stopped_at_the_address_limit() -> None:
    throttle = SignInThrottle(per_account=3, per_address=5, window_s=60, clock=Clock())
    for number in range(5):
        throttle.failed("10.0.0.1", f"guess{number}@contoso.example")
    assert throttle.retry_after("10.0.0.1", "fresh@contoso.example") == 60
    assert throttle.retry_after("10.0.0.2", "fresh@contoso.example") == 0


def test_a_success_forgets_only_its_own_account_so_it_cannot_reset_the_address() -> None:
    throttle = SignInThrottle(per_account=3, per_address=4, window_s=60, clock=Clock())
    for _ in range(2):
        throttle.failed("10.0.0.1", "victim@contoso.example")
        throttle.failed("10.0.0.1", "mine@contoso.example")
    throttle.succeeded("10.0.0.1", "mine@contoso.example")
    assert throttle.retry_after("10.0.0.1", "mine@contoso.example") == 60  # the address count stays
    assert throttle.retry_after("10.0.0.1", "victim@contoso.example") == 60


def test_the_window_slides_and_retry_after_says_when_the_oldest_failure_leaves() -> None:
    clock = Clock()
    throttle = SignInThrottle(per_account=2, per_address=10, window_s=60, clock=clock)
    throttle.failed("10.0.0.1", "a@contoso.example")
    clock.now = 20
    throttle.failed("10.0.0.1", "a@contoso.example")
    assert throttle.retry_after("10.0.0.1", "a@contoso.example") == 40
    clock.now = 60.5
    assert throttle.retry_after("10.0.0.1", "a@contoso.example") == 0
    assert len(throttle) == 2  # the pair (one failure left) and the address
    clock.now = 200
    throttle.retry_after("10.0.0.1", "a@contoso.example")
    assert len(throttle) == 0


def test_the_table_is_bounded() -> None:
    throttle = SignInThrottle(max_keys=100, clock=Clock())
    for number in range(1000):
        throttle.failed(f"10.0.{number // 250}.{number % 250}", "a@contoso.example")
    assert len(throttle) == 100


async def test_weak_passwords_and_duplicate_admins_are_refused(site: Site) -> None:
    async with site.db.write() as conn:
        with pytest.raises(ValueError, match="at least 12"):
            await accounts.create_admin(conn, "ann@example.com", "short")
        await accounts.create_admin(conn, "ann@example.com", PASSWORD)
        with pytest.raises(accounts.AdminExistsError):
            await accounts.create_admin(conn, "ANN@Example.com", PASSWORD)
        with pytest.raises(ValueError, match="not an email"):
            await accounts.create_admin(conn, "ann", PASSWORD)
    async with site.db.read() as conn:
        assert [a.email for a in await accounts.list_admins(conn)] == ["ann@example.com"]


async def test_the_provisioning_json_api_needs_a_session_too(provisioning_site: Site) -> None:
    answer = await provisioning_site.client.get("/api/v1/apps", headers={"Accept": "application/json"})
    assert answer.status_code == 401
    await make_admin(provisioning_site.db)
    await sign_in(provisioning_site.client)
    assert (await provisioning_site.client.get("/api/v1/apps")).status_code == 200


async def test_health_and_static_files_need_no_session(site: Site) -> None:
    assert (await site.client.get("/healthz")).status_code == 200
    script = await site.client.get("/static/htmx.min.js")
    assert script.status_code == 200
    assert "htmx" in script.text[:200]


async def test_the_two_sites_cookies_do_not_collide(portal_site: Site, provisioning_site: Site) -> None:
    """A browser shares cookies across the ports of one host (the demo serves both on 127.0.0.1):
    signing in to one site must not replace the other's session."""
    assert portal_site.cookie != provisioning_site.cookie
