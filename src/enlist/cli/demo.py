"""`enlist demo` (what `make run` runs): the setup guide's whole flow on this machine.

It starts the learning portal (:8000) and the provisioning service (:8001) in one process, loads
a sample directory (300 people in 12 groups, managers included), creates the portal tenant and
the application, connects them with the tenant's Tenant URL and Secret token, tests the
connection, assigns groups, starts provisioning, waits for the initial cycle, and prints where
to look. Running it again changes nothing that exists: the directory import is an upsert, the
tenant gets a fresh token (the old one keeps working for the overlap window), the application
is reconnected with it, and the next cycle finds nothing to do.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click
import orjson

from enlist.cli.output import log_format_option

if TYPE_CHECKING:  # `demo --help` loads none of these; the demo imports them when it runs
    from enlist.provisioning.service import Service
    from enlist.settings import Settings

DEMO_TENANT = "demo"
DEMO_APP = "iSpring Learn (demo)"
ASSIGNED_SHARE = 10  # groups of the sample directory assigned to the app; the rest stay out


async def prepare_tenant(settings: Settings) -> dict[str, str]:
    from enlist.lms.api.runtime import open_portal  # noqa: PLC0415
    from enlist.lms.store import tenants as tenant_store  # noqa: PLC0415

    portal = await open_portal(settings)
    try:
        async with portal.db.write() as conn:
            tenant = await tenant_store.find_tenant(conn, DEMO_TENANT)
            if tenant is None:
                tenant = await tenant_store.create_tenant(conn, DEMO_TENANT)
                token = await tenant_store.add_token(conn, tenant, portal.peppers.current)
            else:
                overlap = timedelta(hours=tenant.policy.token_overlap_hours)
                token = await tenant_store.rotate_token(conn, tenant, portal.peppers.current, overlap)
        return {"tenant_url": tenant.tenant_url(portal.public_url), "secret_token": token}
    finally:
        await portal.db.dispose()


async def prepare_application(service: Service, tenant_url: str, token: str) -> int:
    """Directory, application, Test connection, assignments, Start provisioning; returns the app id."""
    from enlist.provisioning.directory import store as directory  # noqa: PLC0415
    from enlist.provisioning.directory.importer import import_directory  # noqa: PLC0415
    from enlist.provisioning.directory.sample import sample_directory  # noqa: PLC0415
    from enlist.provisioning.mapping.mappings import (  # noqa: PLC0415
        default_group_mapping,
        default_user_mapping,
        mapping_to_json,
    )
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415
    from enlist.provisioning.target.client import ScimTarget  # noqa: PLC0415
    from enlist.provisioning.target.network import networks_of  # noqa: PLC0415

    async with service.db.write() as conn:
        await import_directory(conn, sample_directory(), replace=False)
        app = await app_store.find_app(conn, DEMO_APP)
        if app is None:
            app = await app_store.create_app(
                conn,
                DEMO_APP,
                mapping_to_json(default_user_mapping()),
                mapping_to_json(default_group_mapping()),
            )
    networks = networks_of(service.settings)
    async with ScimTarget(tenant_url, token, dialect=app.settings.dialect, networks=networks) as target:
        check = await target.test_connection()
    if not check.ok:
        raise click.ClickException(f"Test connection failed: {check.message}")
    async with service.db.write() as conn:
        await app_store.connect(conn, app, tenant_url, service.secrets.seal(token))
        groups = [g async for page in directory.iter_groups(conn) for g in page]
        chosen = sorted(groups, key=lambda g: g.display_name)[:ASSIGNED_SHARE]
        await app_store.assign(conn, app, "group", [g.id for g in chosen])
        await app_store.start(conn, await app_store.get_app(conn, DEMO_APP))
    return app.id


async def wait_for_cycle(service: Service, app_id: int, since: str, timeout_s: float = 600) -> dict[str, Any]:
    """The app's status once a cycle that started after `since` (ISO time) has finished."""
    from enlist.provisioning.engine import status as app_status  # noqa: PLC0415
    from enlist.provisioning.store import apps as app_store  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        async with service.db.read() as conn:
            app = await app_store.get_app_by_id(conn, app_id)
        status = await app_status.status(service, app)
        last = status["last_cycle"]
        if last and last["started_at"] >= since and last["finished_at"]:
            return status
        await asyncio.sleep(0.5)
    raise click.ClickException(
        "the initial cycle did not finish in time; see `enlist provisioning app status`"
    )


DEMO_ADMIN = "admin@demo.example"


async def ensure_demo_admin(settings: Settings, service: Service) -> str:
    """The demo's admin in both services, with a password generated once into the data directory."""
    from enlist.lms.api.runtime import open_portal  # noqa: PLC0415
    from enlist.web import accounts  # noqa: PLC0415

    file = settings.data_dir / "demo-admin-password"
    if not file.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        file.write_text(secrets.token_urlsafe(12) + "\n")
        file.chmod(0o600)
    password = file.read_text().strip()
    portal = await open_portal(settings)
    try:
        for db in (portal.db, service.db):
            async with db.write() as conn:
                known = {a.email for a in await accounts.list_admins(conn)}
                if DEMO_ADMIN not in known:
                    await accounts.create_admin(conn, DEMO_ADMIN, password)
    finally:
        await portal.db.dispose()
    return password


def claim_ports(host: str, ports: list[int]) -> list[socket.socket]:
    """Bind every port the demo serves on, before anything is changed: a port in use stops the demo
    here with one line saying what holds it, leaving the data directory (tokens included) as it was."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    claimed: list[socket.socket] = []
    for port in ports:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            for held in claimed:
                held.close()
            raise click.ClickException(
                f"{_holder(host, port, exc)}; stop it or choose other ports "
                "(--lms-port, --provisioning-port). Nothing was changed."
            ) from None
        claimed.append(sock)
    return claimed


def _holder(host: str, port: int, error: OSError) -> str:
    """What holds `port`, in words: another enlist (it answers /healthz) or another program."""
    import httpx2  # noqa: PLC0415

    try:
        answer = httpx2.get(f"http://{_bracketed(host)}:{port}/healthz", timeout=2)
        ours = answer.status_code == 200 and answer.json() == {"status": "ok"}
    except (httpx2.HTTPError, ValueError):
        ours = False
    if ours:
        return f"another demo (or enlist service) is running on :{port}"
    if isinstance(error, PermissionError):
        return f"port {port} needs privileges this user lacks"
    return f"another program is listening on :{port}"


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def demo_main(
    host: str, lms_port: int, provisioning_port: int, as_json: bool, log_format: str | None = None
) -> None:
    import uvicorn  # noqa: PLC0415

    from enlist.db.rows import now  # noqa: PLC0415
    from enlist.lms.api.app import create_app as create_portal  # noqa: PLC0415
    from enlist.provisioning.api.app import create_app as create_provisioning  # noqa: PLC0415
    from enlist.provisioning.service import open_service  # noqa: PLC0415
    from enlist.settings import load_settings  # noqa: PLC0415
    from enlist.web.server import server_config  # noqa: PLC0415

    settings = load_settings(
        lms_public_url=f"http://{_bracketed(host)}:{lms_port}",
        provisioning_public_url=f"http://{_bracketed(host)}:{provisioning_port}",
        scheduler_poll_seconds=1.0,
    )
    lms_socket, provisioning_socket = claim_ports(host, [lms_port, provisioning_port])
    tenant = await prepare_tenant(settings)
    servers = [
        uvicorn.Server(
            server_config(
                create_portal(settings),
                host=host,
                port=lms_port,
                settings=settings,
                log_format=log_format,
                quiet=log_format is None,
            )
        ),
        uvicorn.Server(
            server_config(
                create_provisioning(settings),
                host=host,
                port=provisioning_port,
                settings=settings,
                log_format=log_format,
                quiet=log_format is None,
            )
        ),
    ]
    serving = [
        asyncio.create_task(server.serve(sockets=[sock]))
        for server, sock in zip(servers, (lms_socket, provisioning_socket), strict=True)
    ]
    while not all(s.started for s in servers):
        if any(t.done() for t in serving):
            await asyncio.gather(*serving)  # surfaces the error (a port in use, say)
        await asyncio.sleep(0.05)
    service = await open_service(settings)
    try:
        since = now().isoformat()
        app_id = await prepare_application(service, tenant["tenant_url"], tenant["secret_token"])
        status = await wait_for_cycle(service, app_id, since)
        admin_password = await ensure_demo_admin(settings, service)
    finally:
        await service.db.dispose()
    summary = status["last_cycle"]["summary"] or {}
    info = {
        "lms_url": settings.lms_public_url,
        "provisioning_url": settings.provisioning_public_url,
        "tenant_url": tenant["tenant_url"],
        "secret_token": tenant["secret_token"],
        "application": DEMO_APP,
        "cycle": summary,
        "admin_email": DEMO_ADMIN,
        "admin_password": admin_password,
    }
    if as_json:
        click.echo(orjson.dumps(info).decode())
    else:
        _print_where_to_look(info, status)
    await asyncio.gather(*serving)


def _print_where_to_look(info: dict[str, Any], status: dict[str, Any]) -> None:
    s = info["cycle"]
    click.echo("")
    click.echo(f"Learning portal:       {info['lms_url']}")
    click.echo(f"  Tenant URL:          {info['tenant_url']}")
    click.echo(f"  Secret token:        {info['secret_token']}")
    click.echo(f"Provisioning service:  {info['provisioning_url']}  (application: {info['application']})")
    kind = str(s.get("kind", "initial")).capitalize()
    click.echo(
        f"{kind} cycle {s.get('status', '?')} in {s.get('duration_s', '?')} s: "
        f"created {s.get('created', 0)}, updated {s.get('updated', 0)}, disabled {s.get('disabled', 0)}, "
        f"skipped {s.get('skipped', 0)}, failed {s.get('failed', 0)}; "
        f"{status['users_linked']} users and {status['groups_linked']} groups in the portal."
    )
    click.echo(
        f"Admin pages:           {info['lms_url']}/admin and {info['provisioning_url']}/admin\n"
        f"  sign in as {info['admin_email']} with {info['admin_password']}"
        " (kept in var/demo-admin-password)"
    )
    click.echo("Look around:")
    click.echo("  enlist lms log demo                          the portal's sync log")
    click.echo(f"  enlist provisioning app status '{info['application']}'")
    click.echo(f"  enlist provisioning logs '{info['application']}' --format csv")
    click.echo(f"  curl -H 'Authorization: Bearer <token>' '{info['tenant_url']}/Users?count=5'")
    click.echo("Incremental cycles run every 40 minutes; Ctrl+C stops both services.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--lms-port", default=8000, show_default=True, type=int)
@click.option("--provisioning-port", default=8001, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line once the initial cycle is done.")
@log_format_option
def demo(host: str, lms_port: int, provisioning_port: int, as_json: bool, log_format: str | None) -> None:
    """The whole flow on this machine: portal, provisioning service, sample directory, initial cycle."""
    asyncio.run(demo_main(host, lms_port, provisioning_port, as_json, log_format))
