"""Schemathesis's coverage phase over the query and path parameters of every GET operation the
portal's OpenAPI description names: boundary and just-outside values (huge integers, negative
numbers, wrong types, empty strings) answer below 500 on a live portal, on both databases.

`test_schemathesis.py` sends generated bodies with the coverage phase off (minutes for the write
operations); reads have no body, so their coverage phase is small enough to run in full.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis

from enlist.lms.api import openapi
from tests.live import LivePortal

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": 5, "deterministic": True},
        "phases": {"coverage": {"enabled": True}, "fuzzing": {"enabled": False}},
    }
)
SCHEMA = schemathesis.openapi.from_path(openapi.DESCRIPTION, config=CONFIG).include(method="GET")
sent: Counter[str] = Counter()


@pytest.fixture(scope="module")
def tenant(live_portal: LivePortal) -> tuple[str, str]:
    return live_portal.tenant("openapi-queries")


@SCHEMA.parametrize()
def test_every_get_parameter_value_answers_below_500(
    tenant: tuple[str, str], case: schemathesis.Case
) -> None:
    tenant_url, token = tenant
    response = case.call(base_url=tenant_url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.path, case.query, response.text[:300])
    sent[f"{case.method} {case.path}"] += 1


def test_the_coverage_phase_sent_boundary_values_to_every_get_operation() -> None:
    operations = {f"{r.ok().method.upper()} {r.ok().path}" for r in SCHEMA.get_all_operations()}
    assert operations <= set(sent)  # also other methods on the same paths, which must answer 405
    assert all(sent[o] >= 2 for o in operations)
