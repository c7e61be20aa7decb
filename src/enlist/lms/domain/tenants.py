"""Tenants: one per customer account, each with its own users, departments, groups and tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

from enlist.lms.domain.policy import TenantPolicy

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class TenantNameError(ValueError):
    """A tenant name that cannot be a URL segment."""


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    slug: str
    name: str
    policy: TenantPolicy
    root_department_id: str

    def tenant_url(self, public_url: str) -> str:
        """The Tenant URL an admin pastes into Entra ID: the tenant's SCIM root."""
        return f"{public_url.rstrip('/')}/scim/v2/{self.slug}"


def slug_for(name: str) -> str:
    """The URL segment for a tenant name: lower-case letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    if not SLUG_PATTERN.match(slug):
        raise TenantNameError(
            f"tenant name {name!r} must contain a letter or digit and give at most 63 URL characters"
        )
    return slug
