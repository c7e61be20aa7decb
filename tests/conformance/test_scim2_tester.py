"""scim2-tester (python-scim's conformance checker) against a tenant, over real HTTP."""

from __future__ import annotations

import collections

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests.live import LivePortal


def test_scim2_tester_reports_only_success(live_portal: LivePortal) -> None:
    tenant_url, token = live_portal.tenant("scim2-tester")
    with Client(base_url=tenant_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        results = check_server(SyncSCIMClient(http))
    statuses = collections.Counter(r.status.name for r in results)
    failures = [
        f"{r.status.name} {r.resource_type or ''} {r.title}: {r.reason}"
        for r in results
        if r.status != Status.SUCCESS
    ]
    assert len(results) > 100, statuses
    assert failures == [], "\n".join(failures)
