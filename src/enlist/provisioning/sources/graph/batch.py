"""Managers by `$batch`: 20 `GET /users/{id}/manager?$select=id` per request (graph-source.md §2.3,
§6.6), for full rounds when `managers_by_batch` is set.

Each sub-request is judged alone: 200 is the manager, 404 is "no manager" (by design, §2.3),
429/503/504 are sent again in a new batch after the longest `Retry-After` among them, anything
else stops the round.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from enlist.provisioning.sources.graph.client import RETRIED, GraphClient, retry_after
from enlist.provisioning.sources.graph.errors import GraphHTTPError

BATCH_SIZE = 20


async def managers_of(client: GraphClient, user_ids: list[str], max_retries: int) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for start in range(0, len(user_ids), BATCH_SIZE):
        pending = user_ids[start : start + BATCH_SIZE]
        attempt = 0
        while pending:
            requests = [
                {"id": str(i), "method": "GET", "url": f"/users/{quote(u)}/manager?$select=id"}
                for i, u in enumerate(pending)
            ]
            response = await client.send(
                "POST", client.url("/$batch"), permission="User.Read.All", json={"requests": requests}
            )
            retry: list[str] = []
            longest = 0.0
            for sub in response.json().get("responses", ()):
                user_id = pending[int(sub["id"])]
                status = int(sub.get("status", 0))
                if status == 200:
                    found[user_id] = str((sub.get("body") or {}).get("id") or "") or None
                elif status == 404:
                    found[user_id] = None
                elif status in RETRIED and attempt < max_retries:
                    retry.append(user_id)
                    headers = {k.lower(): v for k, v in (sub.get("headers") or {}).items()}
                    longest = max(longest, retry_after(headers.get("retry-after"), time.time()) or 1.0)
                else:
                    error = (
                        ((sub.get("body") or {}).get("error") or {})
                        if isinstance(sub.get("body"), dict)
                        else {}
                    )
                    raise GraphHTTPError(
                        f"Graph answered {status} {error.get('code', '')} to the manager of {user_id} "
                        "in $batch",
                        status,
                        str(error.get("code", "")),
                    )
            if retry:
                await client.pause(longest, "throttled sub-requests of $batch")
                attempt += 1
            pending = retry
    return found
