"""`enlist demo` (what `make run` runs): the portal on this machine with a demo tenant.

Idempotent: a second run finds the demo tenant and mints it a fresh Secret token (the previous
one keeps working for the tenant's overlap window), instead of creating anything twice.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import click

from enlist.cli.output import emit_json
from enlist.lms.api.runtime import open_portal
from enlist.lms.store import tenants as tenant_store
from enlist.settings import load_settings

DEMO_TENANT = "demo"


async def prepare_demo_tenant() -> dict[str, Any]:
    portal = await open_portal(load_settings())
    try:
        async with portal.db.write() as conn:
            tenant = await tenant_store.find_tenant(conn, DEMO_TENANT)
            if tenant is None:
                tenant = await tenant_store.create_tenant(conn, DEMO_TENANT)
                token = await tenant_store.add_token(conn, tenant, portal.peppers.current)
            else:
                overlap = timedelta(hours=tenant.policy.token_overlap_hours)
                token = await tenant_store.rotate_token(conn, tenant, portal.peppers.current, overlap)
        return {
            "lms_url": portal.public_url,
            "tenant": tenant.slug,
            "tenant_url": tenant.tenant_url(portal.public_url),
            "secret_token": token,
        }
    finally:
        await portal.db.dispose()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line with the URLs and the token.")
def demo(host: str, port: int, as_json: bool) -> None:
    """Run the portal with a demo tenant and print its Tenant URL and Secret token."""
    import uvicorn  # noqa: PLC0415

    from enlist.lms.api.app import create_app  # noqa: PLC0415

    info = asyncio.run(prepare_demo_tenant())
    if as_json:
        emit_json(info)
    else:
        click.echo(f"The learning portal is starting on http://{host}:{port}")
        click.echo(f"  Tenant URL:   {info['tenant_url']}")
        click.echo(f"  Secret token: {info['secret_token']}")
        click.echo("Paste both into Entra ID: Enterprise applications > your app > Provisioning >")
        click.echo("Connect your application, then Test connection. Press Ctrl+C to stop.")
        click.echo(f"Try it: curl -H 'Authorization: Bearer <token>' '{info['tenant_url']}/Users'")
    uvicorn.run(create_app(load_settings()), host=host, port=port, log_level="warning")
