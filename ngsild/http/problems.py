"""Errors -> responses, in one function: ProblemDetails as application/json (§6.3.3), FQNs only."""

from __future__ import annotations

import logging

import orjson
from starlette.responses import Response

from ngsild.errors import InternalError, MethodNotAllowed, NgsiLdError

log = logging.getLogger("ngsild.http")


def problem_response(error: BaseException) -> Response:
    if not isinstance(error, NgsiLdError):
        log.exception("unexpected error", exc_info=error)
        error = InternalError("an unexpected error occurred; it has been logged")
    headers = {}
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.allow)
    return Response(
        orjson.dumps(error.problem()),
        status_code=error.status,
        headers=headers,
        media_type="application/json",
    )
