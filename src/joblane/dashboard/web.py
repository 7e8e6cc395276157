"""Request plumbing shared by every dashboard page: who is looking (the session cookie,
re-verified through the key service on each request), rendering, CSRF-checked actions, and the
error pages that stand in for the API's problem+json answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from joblane.api.context import ApiContext, api_context
from joblane.core.errors import (
    Forbidden,
    InvalidApiKey,
    InvalidId,
    JobExpired,
    JoblaneError,
    NotFound,
    Unauthorized,
    Unavailable,
)
from joblane.core.principal import READ, Principal
from joblane.dashboard.render import templates
from joblane.dashboard.session import Session, Signer

PREFIX = "/dashboard"
SESSION_COOKIE = "jl_session"
FLASH_COOKIE = "jl_flash"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True, slots=True)
class Viewer:
    who: Principal
    session: Session
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.who.is_admin


async def signer(request: Request) -> Signer:
    """One per API context, keyed by a secret derived from the server secret."""
    ctx = api_context(request)
    cached: tuple[ApiContext, Signer] | None = getattr(request.app.state, "dashboard_signer", None)
    if cached is None or cached[0] is not ctx:
        cached = (ctx, Signer(await ctx.keys.derived_secret("joblane-dashboard-session")))
        request.app.state.dashboard_signer = cached
    return cached[1]


async def current(request: Request) -> Viewer | None:
    """The signed-in caller, or None: no cookie, a forged or expired one, or a key that has
    since been revoked or has expired (logged out at once, within the key cache's 2 s)."""
    sign = await signer(request)
    ctx = api_context(request)
    session = sign.session(request.cookies.get(SESSION_COOKIE), ctx.storage.now())
    if session is None:
        return None
    try:
        who = await ctx.keys.authenticate_id(session.key_id)
    except (InvalidApiKey, Unauthorized, InvalidId):
        return None
    return Viewer(who, session, sign.csrf_token(session))


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def same_origin(request: Request) -> bool:
    """A browser's POST says where its form came from; refuse one from another site (the
    SameSite cookie already keeps sessions out of those; this also covers the login form).
    `Sec-Fetch-Site` when the browser sends it (a proxy cannot garble it), else `Origin`
    against the host the browser asked for (`Host`, or `X-Forwarded-Host` behind a proxy)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser, or an old one: the CSRF token still decides
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")}
    return urlsplit(origin).netloc in hosts - {None}


def to_login(request: Request) -> Response:
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    if SESSION_COOKIE in request.cookies:
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    flash = context.pop("flash", None) or _take_flash(request)
    html = templates.get_template(template).render(
        request=request, viewer=viewer, flash=flash, prefix=PREFIX, **context
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=PREFIX)
    return response


def _take_flash(request: Request) -> tuple[str, str] | None:
    sign: Signer | None = None
    cached = getattr(request.app.state, "dashboard_signer", None)
    if cached is not None:
        sign = cached[1]
    cookie = request.cookies.get(FLASH_COOKIE)
    return sign.read_flash(cookie) if sign is not None and cookie else None


def error_page(request: Request, viewer: Viewer | None, exc: JoblaneError) -> HTMLResponse:
    """The dashboard's answer to a service error: another tenant's id and a missing one look
    the same (both are a miss of the tenant-filtered lookup)."""
    if isinstance(exc, JobExpired):
        return render(request, "not_found.html", viewer, 410, message=str(exc))
    if isinstance(exc, NotFound | InvalidId):
        return render(request, "not_found.html", viewer, 404, message=str(exc))
    if isinstance(exc, Forbidden):
        return render(request, "forbidden.html", viewer, 403, message=str(exc))
    if isinstance(exc, Unavailable):
        return render(request, "error.html", viewer, 503, message=str(exc))
    return render(request, "error.html", viewer, 400, message=str(exc))


PageHandler = Callable[[Request, Viewer], Awaitable[Response]]
ActionHandler = Callable[[Request, Viewer, FormData], Awaitable[tuple[str | None, str]]]
Endpoint = Callable[[Request], Awaitable[Response]]


def page(handler: PageHandler) -> Endpoint:
    """A page for signed-in callers; others go to the login form."""

    async def endpoint(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return to_login(request)
        try:
            return await handler(request, viewer)
        except JoblaneError as exc:
            return error_page(request, viewer, exc)

    return endpoint


def action(handler: ActionHandler, back: str | None = None) -> Endpoint:
    """A POST form: CSRF token checked first (403 without a valid one), then the service call.
    Success and refusals (a conflict, invalid input) both redirect back with a flash message:
    to where the handler says, else to the page the action belongs to (the path's parent)."""

    async def endpoint(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return to_login(request)
        form = await request.form()
        sign = await signer(request)
        token = form.get("csrf_token")
        valid = sign.csrf_ok(viewer.session, token if isinstance(token, str) else None)
        if not valid or not same_origin(request):
            message = "the form's CSRF token is missing or wrong: reload the page and try again"
            return render(request, "forbidden.html", viewer, 403, message=message)
        here = back or request.url.path.rsplit("/", 1)[0]
        try:
            target, message = await handler(request, viewer, form)
            level = "ok"
        except (NotFound, InvalidId, JobExpired, Forbidden, Unavailable) as exc:
            return error_page(request, viewer, exc)
        except JoblaneError as exc:
            target, message, level = None, str(exc), "error"
        return redirect(request, target or here, message, level)

    return endpoint


def redirect(request: Request, target: str, message: str, level: str = "ok") -> Response:
    response = RedirectResponse(target, status_code=303)
    cached = getattr(request.app.state, "dashboard_signer", None)
    if cached is not None:
        response.set_cookie(
            FLASH_COOKIE,
            cached[1].flash(message, level),
            max_age=60,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
    return response


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def narrowed(who: Principal, tenant: str | None) -> Principal:
    """An admin's read-only view of one tenant's lists (tenant keys always see their own)."""
    if tenant is None or not who.is_admin:
        return who
    return Principal(tenant, frozenset({READ}), who.key_id, who.settings)
