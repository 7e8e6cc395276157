"""Any error on a profile path -> the profile's own envelope, code and status."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from joblane.api.errors import STATUS_BY_CODE, request_id_of
from joblane.compat.profile import ErrorInfo, Profile
from joblane.compat.wire import json_response
from joblane.core.errors import JoblaneError, Unavailable, ValidationFailed


def error_info(
    profile: Profile, request: Request, exc: JoblaneError, operation: str = ""
) -> ErrorInfo:
    details = dict(exc.details)
    if isinstance(exc, ValidationFailed) and exc.errors:
        details.setdefault("errors", exc.errors)
    return info(profile, request, exc.code, exc.message, details, operation)


def info(
    profile: Profile,
    request: Request,
    code: str,
    message: str,
    details: Mapping[str, object] | None = None,
    operation: str = "",
) -> ErrorInfo:
    status = profile.statuses.get(code, STATUS_BY_CODE.get(code, 500))
    return ErrorInfo(
        status=status,
        code=profile.codes.get(code, code),
        message=message,
        details=dict(details or {}),
        joblane_code=code,
        request_id=request_id_of(request),
        path_params=dict(request.path_params),
        operation=operation,
    )


def render(
    profile: Profile, error: ErrorInfo, headers: Mapping[str, str] | None = None
) -> Response:
    return json_response(profile.error(error), error.status, headers)


def error_response(
    profile: Profile, request: Request, exc: JoblaneError, operation: str = ""
) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, Unavailable):  # a 429's Retry-After comes from RateLimitHeaders
        headers["Retry-After"] = str(exc.retry_after)
    if exc.code in ("UNAUTHORIZED", "INVALID_API_KEY"):
        headers["WWW-Authenticate"] = 'Bearer realm="joblane"'
    return render(profile, error_info(profile, request, exc, operation), headers)
