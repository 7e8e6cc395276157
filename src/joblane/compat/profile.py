"""What a profile is: data (name, endpoints, error codes) plus small mapping functions.

An endpoint's handler gets a `Call` (the request, the API's services and the authenticated
caller) and returns a response; whatever `JoblaneError` it raises (or the authentication, the
rate limit or the services raise) is rendered by the profile's `error` function, after its
`codes` / `statuses` tables have translated Joblane's code and HTTP status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from joblane.api.context import ApiContext
from joblane.core.principal import Principal

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated request to a profile endpoint."""

    request: Request
    ctx: ApiContext
    who: Principal
    profile: Profile

    def path(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    @property
    def now(self) -> float:
        return self.ctx.storage.now()


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str  # GET, POST, …
    path: str  # a Starlette path relative to the profile's root, e.g. "/v1/jobs/{job_id}"
    handler: Handler


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An error as the profile will show it: `code` and `status` already translated."""

    status: int
    code: str
    message: str
    details: JSON
    joblane_code: str  # the canonical code (`JOB_NOT_FOUND`, …), for profiles that branch on it
    request_id: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    operation: str = ""  # the endpoint handler's name ("" outside one: an unknown path)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str  # [a-z0-9]+: the mount is /compat/<name>/
    title: str  # one line for docs and `/compat`
    endpoints: tuple[Endpoint, ...]
    error: Callable[[ErrorInfo], JSON]  # the profile's error envelope
    codes: Mapping[str, str] = field(default_factory=dict)  # Joblane code -> the profile's
    statuses: Mapping[str, int] = field(default_factory=dict)  # Joblane code -> HTTP status
    # True: a job or batch of another tenant answers FORBIDDEN (403), as some documents say;
    # False: it is indistinguishable from a missing one (404), as in the canonical API.
    cross_tenant_forbidden: bool = False
