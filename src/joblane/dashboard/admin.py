"""Keys and tenants, for admin keys only (a tenant key gets the 403 page): list, create (a new
key's secret is shown once, in the answer to the form that made it), revoke."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import api_context
from joblane.api.routes.admin import key_body, tenant_body
from joblane.core.errors import JoblaneError, ValidationFailed
from joblane.core.principal import SCOPES
from joblane.dashboard.filters import tenant_param
from joblane.dashboard.web import (
    Viewer,
    action,
    current,
    error_page,
    form_text,
    page,
    render,
    same_origin,
    signer,
    to_login,
)


async def keys_page(request: Request, viewer: Viewer) -> Response:
    return await _keys(request, viewer)


async def _keys(
    request: Request,
    viewer: Viewer,
    new_key: dict[str, object] | None = None,
    flash: tuple[str, str] | None = None,
) -> Response:
    viewer.who.require_admin()
    ctx = api_context(request)
    tenant = tenant_param(request.query_params, admin=True)
    now = ctx.storage.now()
    keys = [key_body(k, now) for k in await ctx.keys.list(tenant)]
    keys.sort(key=lambda k: str(k["created_at"]), reverse=True)
    return render(
        request,
        "keys.html",
        viewer,
        keys=keys,
        scopes=SCOPES,
        tenant=tenant or "",
        new_key=new_key,
        flash=flash,
        status=201 if new_key else 200,
    )


async def create_key(request: Request) -> Response:
    """Not a redirect like the other actions: the secret is shown in this answer and stored
    nowhere (not even in a flash cookie)."""
    viewer = await current(request)
    if viewer is None:
        return to_login(request)
    form = await request.form()
    if not (await signer(request)).csrf_ok(viewer.session, form_text(form, "csrf_token")) or (
        not same_origin(request)
    ):
        message = "the form's CSRF token is missing or wrong: reload the page and try again"
        return render(request, "forbidden.html", viewer, 403, message=message)
    try:
        viewer.who.require_admin()
        scopes = tuple(s for s in form.getlist("scopes") if isinstance(s, str))
        created = await api_context(request).keys.create(
            form_text(form, "tenant_id"), scopes, form_text(form, "name")
        )
    except ValidationFailed as exc:
        return await _keys(request, viewer, flash=("error", _message(exc)))
    except JoblaneError as exc:
        return error_page(request, viewer, exc)
    body = key_body(created.record, api_context(request).storage.now())
    flash = ("ok", f"Key {created.record.id} created: copy it now, it is not shown again.")
    return await _keys(request, viewer, new_key=body | {"secret": created.secret}, flash=flash)


def _message(exc: ValidationFailed) -> str:
    details = "; ".join(str(e.get("msg", "")) for e in exc.errors) if exc.errors else ""
    return f"{exc}: {details}" if details else str(exc)


async def revoke_key(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    viewer.who.require_admin()
    key_id = request.path_params["key_id"]
    await api_context(request).keys.revoke(key_id)
    return "/dashboard/keys", f"Key {key_id} revoked."


async def tenants_page(request: Request, viewer: Viewer) -> Response:
    viewer.who.require_admin()
    tenants = await api_context(request).keys.tenants.list()
    return render(request, "tenants.html", viewer, tenants=[tenant_body(t) for t in tenants])


async def create_tenant(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    viewer.who.require_admin()
    tenants = api_context(request).keys.tenants
    try:
        tenant = await tenants.create(form_text(form, "tenant_id"), form_text(form, "name"), {})
    except ValidationFailed as exc:
        raise ValidationFailed(_message(exc), exc.errors) from None
    return "/dashboard/tenants", f"Tenant {tenant.id} created."


routes = [
    Route("/keys", page(keys_page), methods=["GET"]),
    Route("/keys", create_key, methods=["POST"]),
    Route("/keys/{key_id}/revoke", action(revoke_key), methods=["POST"]),
    Route("/tenants", page(tenants_page), methods=["GET"]),
    Route("/tenants", action(create_tenant, back="/dashboard/tenants"), methods=["POST"]),
]
