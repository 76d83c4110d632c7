"""`/data/keys`: API keys for machine clients, as `/api/v1/api-keys` has them, for admins
only: the list (tenancy.service.list_api_keys: name, prefix, role, created, last used,
revoked), a new key (shown once, in the answer to the form; afterwards only its prefix) and
revoking one, through tenancy.keys (which commits).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from propensity.errors import PropensityError
from propensity.models import ApiKey, Role
from propensity.tenancy.keys import issue_api_key, revoke_api_key_committed
from propensity.tenancy.service import list_api_keys, parse_role
from propensity.web.context import AdminPage, CsrfForm, PageContext
from propensity.web.pages.data_common import path_id, redirect_with
from propensity.web.render import render

router = APIRouter(include_in_schema=False)
ROLE_HELP = {
    Role.VIEWER: "reads predictions and reports",
    Role.ANALYST: "also runs predictions and imports data",
    Role.ADMIN: "also manages models, configuration, users and keys",
}


def _keys_page(
    ctx: PageContext,
    *,
    created: ApiKey | None = None,
    secret: str | None = None,
    problem: str | None = None,
    name: str = "",
    role: str = Role.ANALYST.value,
    status_code: int = 200,
) -> HTMLResponse:
    keys = list_api_keys(ctx.session)
    return render(
        ctx,
        "data/keys.html",
        status_code=status_code,
        section="keys",
        keys=sorted(keys, key=lambda k: (k.revoked_at is not None, -k.id)),
        roles=[(r.value, ROLE_HELP[r]) for r in Role],
        created=created,
        secret=secret,
        problem=problem,
        name=name,
        role=role,
    )


@router.get("/data/keys")
def keys_page(ctx: AdminPage) -> HTMLResponse:
    return _keys_page(ctx)


@router.post("/data/keys")
def create(ctx: AdminPage, form: CsrfForm) -> HTMLResponse:
    name = str(form.get("name") or "").strip()
    role = str(form.get("role") or Role.ANALYST.value)
    if not name or len(name) > 200:
        return _keys_page(
            ctx,
            problem="Give the key a name of 1 to 200 characters (what uses it).",
            name=name[:200],
            role=role,
            status_code=400,
        )
    try:
        key, secret = issue_api_key(
            ctx.session,
            tenant_id=ctx.tenant_id,
            name=name,
            role=parse_role(role),
            created_by=ctx.principal.user_id,
        )
    except PropensityError as exc:
        return _keys_page(ctx, problem=exc.message, name=name, role=role, status_code=400)
    # The secret is in this answer only: the database keeps its hash.
    return _keys_page(ctx, created=key, secret=secret, status_code=201)


@router.post("/data/keys/{key_id}/revoke")
def revoke(key_id: str, ctx: AdminPage, _form: CsrfForm) -> Response:
    key = revoke_api_key_committed(
        ctx.session, key_id=path_id(key_id, not_found="API key not found")
    )
    return redirect_with(
        "/data/keys", notice=f"The key “{key.name}” ({key.prefix}…) is revoked: it no longer works."
    )
