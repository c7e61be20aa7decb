"""The API's job status URL, and `accepted`: how a route starts a long operation as a job."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from enlist.api_tokens.door import requires
from enlist.db.rows import now
from enlist.provisioning.api import jobs
from enlist.provisioning.api.errors import api_failure
from enlist.provisioning.service import Service


def job_tasks(request: Request) -> set[asyncio.Task[None]]:
    """This process's running jobs (the app's lifespan cancels them at shutdown)."""
    state = request.app.state
    if not hasattr(state, "job_tasks"):
        state.job_tasks = set()
    tasks: set[asyncio.Task[None]] = state.job_tasks
    return tasks


async def accepted(request: Request, service: Service, kind: str, subject: str, work: jobs.Work) -> Response:
    """Start `work` as a job: `202 Accepted`, `{job, status, status_url}`, `Location` the URL."""
    started = await jobs.start(service, job_tasks(request), kind, subject, work)
    return JSONResponse(started.to_json(), status_code=202, headers={"Location": started.url})


@requires("read")
async def job_status(request: Request) -> Response:
    """---
    summary: A job a 202 answer started (sync, source sync, directory import), from any process.
    parameters: [{name: job, in: path, required: true, schema: {type: string}}]
    responses:
      "200":
        description: >-
          {job, kind, subject, status: running|done|failed, created_at, finished_at, result?, error?};
          a job whose process ended before it did is failed with error code Interrupted.
      "404": {$ref: "#/components/responses/Error"}
    """
    service = request.app.state.service
    assert isinstance(service, Service)
    async with service.db.read() as conn:
        found = await jobs.read(conn, request.path_params["job"], now())
    if found is None:
        return api_failure(
            404,
            "UnknownJob",
            f"no job {request.path_params['job']!r}",
            f"jobs are kept {jobs.RETENTION.days} days after they end; start the operation again",
        )
    return JSONResponse(found)


def routes() -> list[BaseRoute]:
    return [Route(jobs.JOB_PATH, job_status, methods=["GET"])]
