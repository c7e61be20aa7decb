"""User synchronization → Microsoft Entra ID: the Tenant URL, Secret tokens and the tenant's policies.

A Secret token exists in clear only in the answer to the POST that minted it (tenant creation or
**Generate token** / **Regenerate**): it is rendered straight into that response (no redirect,
no session, no cache: pages are `Cache-Control: no-store`) and never again. Settings and
tokens go through `enlist.lms.operations`, as `enlist lms tenant set` and `rotate-token` do, so a
bad value gets the same message and changes nothing, and users are re-placed by the same rule.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response

from enlist.lms import operations
from enlist.lms.domain import policy as pol
from enlist.lms.store import tenants as tenant_store
from enlist.lms.store.admin_views import status_counts
from enlist.lms.web.common import TenantContext, form_of

FLASHES = {
    "settings": "Settings saved.",
    "revoked": "Every Secret token of this tenant is revoked: Entra ID cannot provision until you "
    "generate a new token and paste it into the application's Provisioning page.",
}


async def render_sync(
    ctx: TenantContext,
    *,
    new_token: str | None = None,
    created: bool = False,
    overlap_hours: float | None = None,
    token_error: str = "",
    settings_error: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    counts = await status_counts(ctx.conn, ctx.tenant.id)
    tokens = await tenant_store.token_status(ctx.conn, ctx.tenant)
    policy = ctx.tenant.policy
    values: dict[str, Any] = {
        "group_mode": policy.group_mode,
        "placement": ", ".join(policy.placement),
        "tie_break": policy.tie_break,
        "delete_policy": policy.delete_policy,
        "seat_limit": "" if policy.seat_limit is None else str(policy.seat_limit),
        "required_fields": list(policy.required_fields),
        "token_overlap_hours": f"{policy.token_overlap_hours:g}",
        "log_retention_days": str(policy.log_retention_days),
        "department_source": policy.department_source,
        "department_attribute": policy.department_attribute,
        "department_separator": policy.department_separator,
        "department_group_prefix": policy.department_group_prefix,
    }
    if form is not None:  # a refused form shows what was typed, next to the message
        values.update({k: v for k, v in form.items() if k in values and k != "required_fields"})
    return ctx.render(
        "sync.html",
        status_code,
        page_title="User synchronization",
        tenant_url=ctx.tenant.tenant_url(ctx.portal.public_url),
        tokens=tokens,
        live_tokens=sum(1 for t in tokens if t["usable"]),
        counts=counts,
        seats_used=counts["active"],
        new_token=new_token,
        created=created,
        overlap_hours=overlap_hours,
        token_error=token_error,
        settings_error=settings_error,
        values=values,
        policy=policy,
        group_modes=pol.GROUP_MODES,
        delete_policies=pol.DELETE_POLICIES,
        tie_breaks=pol.TIE_BREAKS,
        department_sources=pol.DEPARTMENT_SOURCES,
        requirable=pol.REQUIRABLE_FIELDS,
        max_overlap=pol.MAX_OVERLAP_HOURS,
        flash=FLASHES.get(ctx.request.query_params.get("done", ""), ""),
    )


async def sync_page(ctx: TenantContext) -> Response:
    """GET: the connection details, the tokens (never a token itself) and the settings."""
    return await render_sync(ctx)


def parse_overlap(text: str) -> float | None:
    """Hours the tokens in use keep working after a regeneration (blank: None, the policy's
    default); the range is checked by `operations.rotate_token`."""
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise pol.PolicyError(f"the overlap must be a number of hours, not {text!r}") from None


async def generate_token(ctx: TenantContext) -> Response:
    """POST: mint a new Secret token (the old ones keep working for the overlap) and show it once."""
    form = await form_of(ctx.request)
    try:
        requested = parse_overlap(form.get("overlap_hours", ""))
        minted = await operations.rotate_token(ctx.conn, ctx.tenant, ctx.portal.peppers.current, requested)
    except pol.PolicyError as exc:
        return await render_sync(ctx, token_error=str(exc), status_code=400)
    return await render_sync(ctx, new_token=minted.token, overlap_hours=minted.overlap_hours)


async def revoke_tokens(ctx: TenantContext) -> Response:
    """POST: revoke every token of the tenant at once."""
    await operations.revoke_tokens(ctx.conn, ctx.tenant)
    return RedirectResponse(f"{ctx.base}/sync?done=revoked", status_code=303)


def policy_changes(form: dict[str, str], required: list[str]) -> dict[str, str]:
    """The settings form as `tenant set` KEY=VALUE text: only fields the form carried."""
    changes = {key: form[key] for key in pol.TenantPolicy.__dataclass_fields__ if key in form}
    if "required_fields_shown" in form:  # unticked boxes send nothing: the marker says the form had them
        changes["required_fields"] = ",".join(required)
    return changes


async def save_settings(ctx: TenantContext) -> Response:
    """POST: validate and save the tenant's policies, as `enlist lms tenant set` does."""
    form = await form_of(ctx.request)
    fields = dict(form.items())
    changes = policy_changes(fields, form.getlist("required_fields"))
    try:
        await operations.set_policy(ctx.conn, ctx.tenant, changes)
    except pol.PolicyError as exc:
        return await render_sync(ctx, settings_error=str(exc), form=fields, status_code=400)
    return RedirectResponse(f"{ctx.base}/sync?done=settings", status_code=303)
