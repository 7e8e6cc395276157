"""Signing in with an API key (verified by the same key service as the API) and out again."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from joblane.api.context import api_context
from joblane.core.errors import InvalidApiKey, Unauthorized
from joblane.dashboard.session import SESSION_SECONDS
from joblane.dashboard.web import (
    PREFIX,
    SESSION_COOKIE,
    current,
    form_text,
    render,
    same_origin,
    secure,
    signer,
    to_login,
)


async def login_form(request: Request) -> Response:
    if await current(request) is not None:
        return RedirectResponse(PREFIX, status_code=303)
    return render(request, "login.html", None, error=None)


async def login(request: Request) -> Response:
    if not same_origin(request):
        return render(request, "login.html", None, 403, error="cross-site sign-in refused")
    form = await request.form()
    secret = form_text(form, "api_key")
    ctx = api_context(request)
    sign = await signer(request)
    try:
        if not secret:
            raise Unauthorized("enter an API key")
        who = await ctx.keys.authenticate(secret)
    except (InvalidApiKey, Unauthorized) as exc:
        return render(request, "login.html", None, 401, error=str(exc))
    assert who.key_id is not None  # keys from storage always have one
    _, cookie = sign.new_session(who.key_id, ctx.storage.now())
    response = RedirectResponse(PREFIX, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_SECONDS),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )
    return response


async def logout(request: Request) -> Response:
    viewer = await current(request)
    if viewer is not None:
        form = await request.form()
        token = form_text(form, "csrf_token")
        if not (await signer(request)).csrf_ok(viewer.session, token):
            message = "the form's CSRF token is missing or wrong"
            return render(request, "forbidden.html", viewer, 403, message=message)
    return to_login(request)
