"""The demo tenant `python -m tests.fakes.graph` serves: a small Contoso with everything a Graph
source reads (enabled and disabled users, managers, groups with a nested group, a group nobody
assigns, an enterprise application with assignments) and an app registration to read it with.

Object ids are derived from names (uuid5), so every start serves the same ids and the tutorial
can show them. Nothing here is a secret: the fake serves loopback only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tests.fakes.graph.tenant import Tenant

TENANT_ID = "contoso.onmicrosoft.com"
CLIENT_ID = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"
CLIENT_SECRET = "fake-graph-demo-secret"  # not a secret: the fake's demo app, on loopback only
APP_ID = "7a1b2c3d-0000-4000-8000-00000000c0de"  # the enterprise application "Learning portal"
_NAMESPACE = uuid.UUID("6f0c5c0e-8d0e-4f4e-9a57-2f1d1b8e0a11")

# userPrincipalName, displayName, givenName, surname, jobTitle, department, manager
PEOPLE = (
    ("cleo@contoso.com", "Cleo Ortiz", "Cleo", "Ortiz", "Chief Executive", "Board", None),
    ("ada@contoso.com", "Ada Lovelace", "Ada", "Lovelace", "Head of Engineering", "Engineering", "cleo"),
    ("alan@contoso.com", "Alan Turing", "Alan", "Turing", "Platform Engineer", "Engineering", "ada"),
    ("grace@contoso.com", "Grace Hopper", "Grace", "Hopper", "Engineer", "Engineering", "ada"),
    ("ken@contoso.com", "Ken Thompson", "Ken", "Thompson", "Engineer", "Engineering", "ada"),
    ("bob@contoso.com", "Bob Stone", "Bob", "Stone", "Head of Sales", "Sales", "cleo"),
    ("dan@contoso.com", "Dan Reed", "Dan", "Reed", "Account Manager", "Sales", "bob"),
    ("eve@contoso.com", "Eve Moss", "Eve", "Moss", "Account Manager", "Sales", "bob"),
    ("mia@contoso.com", "Mia Chen", "Mia", "Chen", "Controller", "Finance", "cleo"),
)
DISABLED = frozenset({"ken@contoso.com"})
# group: (member userPrincipalNames, nested groups)
GROUPS = {
    "Platform": (("ada@contoso.com", "alan@contoso.com"), ()),
    "Engineering": (("grace@contoso.com", "ken@contoso.com"), ("Platform",)),
    "Sales": (("bob@contoso.com", "dan@contoso.com", "eve@contoso.com"), ()),
    "Finance": (("mia@contoso.com", "cleo@contoso.com"), ()),
}
ASSIGNED = ("Engineering", "Sales")  # the enterprise application's "Users and groups"


def object_id(name: str) -> str:
    """The id the demo gives the user or group called `name` (stable across starts)."""
    return str(uuid.uuid5(_NAMESPACE, name))


@dataclass(frozen=True)
class Demo:
    tenant_id: str
    client_id: str
    client_secret: str
    app_id: str


def seed(tenant: Tenant) -> Demo:
    """Fill an empty `tenant` with the demo's people, groups and enterprise application."""
    tenant.register_app(CLIENT_ID, secret=CLIENT_SECRET)
    ids = {}
    for upn, display, given, surname, title, department, _manager in PEOPLE:
        ids[upn] = tenant.create_user(
            upn,
            id=object_id(upn),
            displayName=display,
            givenName=given,
            surname=surname,
            jobTitle=title,
            department=department,
            accountEnabled=upn not in DISABLED,
        )
    for upn, *_, manager in PEOPLE:
        if manager is not None:
            tenant.set_manager(ids[upn], ids[f"{manager}@contoso.com"])
    groups = {name: tenant.create_group(name, id=object_id(name)) for name in GROUPS}
    for name, (members, nested) in GROUPS.items():
        for upn in members:
            tenant.add_member(groups[name], ids[upn])
        for inner in nested:
            tenant.add_member(groups[name], groups[inner])
    app = tenant.create_service_principal(APP_ID, "Learning portal")
    for name in ASSIGNED:
        tenant.assign(app, groups[name])
    return Demo(tenant.tenant_id, CLIENT_ID, CLIENT_SECRET, APP_ID)
