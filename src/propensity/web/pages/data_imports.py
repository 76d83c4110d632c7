"""`/data/imports`: importing a CSV, JSON Lines or Parquet file in three steps a person can
review. 1. upload: the file is kept in the tenant's home (crm.staging) and previewed (the
first rows, the columns found, a proposed column mapping to edit); 2. check: the very import
`POST /api/v1/import/{kind}/file` runs (same reading, mapping, validation and writer), rolled
back, listing every bad row by number, column and problem (crm.uploads.check_import);
3. import: the same, committed only when every row is good (crm.uploads.commit_import).

Analysts and admins only, as the import API requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from propensity.crm.contracts import CUSTOMER_KINDS, ImportKind, spec_for
from propensity.crm.errors import ImportRejected
from propensity.crm.proposals import propose_mapping
from propensity.crm.service import ImportResult
from propensity.crm.staging import (
    StagedUpload,
    discard_upload,
    list_uploads,
    load_upload,
    read_upload,
    remember_options,
    stage_upload,
)
from propensity.crm.uploads import MAX_ROWS, MAX_UPLOAD_BYTES, check_import, commit_import
from propensity.crm.validation import ImportOptions
from propensity.errors import PropensityError
from propensity.web.context import AnalystPage, CsrfForm, PageContext
from propensity.web.pages.data_common import redirect_with
from propensity.web.render import render

router = APIRouter(include_in_schema=False)

KIND_HELP = {
    ImportKind.CUSTOMERS: "B2B accounts and B2C subscribers, one row each, by customer_id",
    ImportKind.LEADS: "Leads, one row each, by lead_id",
    ImportKind.EVENTS: "Activity of a customer or a lead: logins, tickets, emails…",
    ImportKind.HEALTH: "Health score snapshots of accounts, one per customer and date",
    ImportKind.DEALS: "Closed property sales (market insights)",
}
KEEP = ""
DROP = "-"


@dataclass(frozen=True)
class MappingRow:
    """One source column on the review form."""

    index: int
    name: str
    filled: int
    example: str
    choice: str


def _contracts() -> list[dict[str, Any]]:
    return [
        {
            "kind": kind.value,
            "help": KIND_HELP[kind],
            "columns": [
                {"name": c.name, "type": c.type, "required": c.required, "choices": c.choices}
                for c in spec_for(kind).columns.values()
            ],
            "extras": spec_for(kind).extras,
            "label": spec_for(kind).label_target,
        }
        for kind in ImportKind
    ]


def _upload_page(
    ctx: PageContext,
    *,
    kind: str = ImportKind.CUSTOMERS.value,
    problem: str | None = None,
    rejected: ImportRejected | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        ctx,
        "data/imports.html",
        status_code=status_code,
        section="imports",
        uploads=list_uploads(ctx.settings.home, tenant_id=ctx.tenant_id),
        kinds=[(k.value, KIND_HELP[k]) for k in ImportKind],
        selected_kind=kind,
        contracts=_contracts(),
        problem=problem,
        rejected=rejected,
        max_rows=MAX_ROWS,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
    )


@router.get("/data/imports")
def imports_page(ctx: AnalystPage) -> HTMLResponse:
    return _upload_page(ctx)


@router.post("/data/imports")
def upload(ctx: AnalystPage, form: CsrfForm) -> Response:
    kind = str(form.get("kind") or "")
    file = form.get("file")
    if kind not in {k.value for k in ImportKind}:
        return _upload_page(ctx, problem="Choose what the file holds.", status_code=400)
    if not isinstance(file, UploadFile) or not file.filename:
        return _upload_page(ctx, kind=kind, problem="Choose a file to upload.", status_code=400)
    try:
        staged = stage_upload(
            ctx.settings.home,
            tenant_id=ctx.tenant_id,
            kind=kind,
            filename=file.filename,
            stream=file.file,
            user_id=ctx.principal.user_id,
        )
    except ImportRejected as exc:
        return _upload_page(ctx, kind=kind, rejected=exc, status_code=400)
    except PropensityError as exc:
        return _upload_page(ctx, kind=kind, problem=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/data/imports/{staged.id}", status_code=303)


def _choices_of(upload: StagedUpload, mapping: dict[str, str | None]) -> list[MappingRow]:
    rows = []
    for index, name in enumerate(upload.columns):
        target = mapping.get(name, KEEP) if name in mapping else KEEP
        example = next((row[index] for row in upload.sample if row[index]), "")
        rows.append(
            MappingRow(
                index=index,
                name=name,
                filled=upload.filled[index],
                example=example,
                choice=DROP if target is None else str(target),
            )
        )
    return rows


def _review(
    ctx: PageContext,
    upload: StagedUpload,
    *,
    options: ImportOptions | None = None,
    result: ImportResult | None = None,
    rejected: ImportRejected | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    spec = spec_for(upload.kind)
    shown = options or upload.options
    mapping = dict(shown.mapping) if shown else propose_mapping(upload.kind, upload.columns)
    label_source = None
    if shown is not None and shown.label is not None:
        renamed = {target: source for source, target in mapping.items() if target}
        label_source = renamed.get(shown.label, shown.label)
    return render(
        ctx,
        "data/import_review.html",
        status_code=status_code,
        section="imports",
        upload=upload,
        columns=_choices_of(upload, mapping),
        targets=list(spec.columns),
        keeps_extras=spec.extras is not None,
        label_target=spec.label_target,
        label_source=label_source,
        positive=shown.positive if shown else None,
        customer_kind=shown.customer_kind if shown else "subscriber",
        customer_kinds=CUSTOMER_KINDS,
        result=result,
        rejected=rejected,
        file_errors=[e for e in rejected.errors if e.row is None] if rejected else [],
        problem=problem,
        KEEP=KEEP,
        DROP=DROP,
    )


def _load(ctx: PageContext, upload_id: str) -> StagedUpload:
    # NotFound becomes the 404 page: the folder is the caller's tenant's, so another
    # tenant's upload id is simply not there.
    return load_upload(ctx.settings.home, tenant_id=ctx.tenant_id, upload_id=upload_id)


@router.get("/data/imports/{upload_id}")
def review_page(upload_id: str, ctx: AnalystPage) -> HTMLResponse:
    upload = _load(ctx, upload_id)
    return _review(ctx, upload)


def _options_from(form: FormData, upload: StagedUpload) -> ImportOptions:
    """The reviewer's choices: a target per source column (by position, since a column's
    name can be anything), the outcome column named as it is after the mapping."""
    known = set(spec_for(upload.kind).columns)
    mapping: dict[str, str | None] = {}
    for index, name in enumerate(upload.columns):
        choice = str(form.get(f"map_{index}") or KEEP)
        if choice == DROP:
            mapping[name] = None
        elif choice != KEEP and choice != name and choice in known:
            mapping[name] = choice
    label = str(form.get("label") or "").strip() or None
    if label is not None and label in mapping:
        label = mapping[label] or label
    positive = str(form.get("positive") or "").strip() or None
    customer_kind = str(form.get("customer_kind") or "subscriber")
    return ImportOptions(
        mapping=mapping, label=label, positive=positive, customer_kind=customer_kind
    )


@router.post("/data/imports/{upload_id}/check")
def check(upload_id: str, ctx: AnalystPage, form: CsrfForm) -> HTMLResponse:
    upload = _load(ctx, upload_id)
    options = _options_from(form, upload)
    home, tenant = ctx.settings.home, ctx.tenant_id
    upload = remember_options(home, tenant_id=tenant, upload_id=upload_id, options=options)
    try:
        table = read_upload(home, tenant_id=tenant, upload_id=upload_id)
        result = check_import(ctx.session, kind=upload.kind, table=table, options=options)
    except ImportRejected as exc:
        return _review(ctx, upload, rejected=exc, status_code=400)
    except PropensityError as exc:
        return _review(ctx, upload, problem=exc.message, status_code=exc.status_code)
    return _review(ctx, upload, result=result)


def _imported(upload: StagedUpload, result: ImportResult) -> str:
    parts = [f"{result.inserted:,} new", f"{result.updated:,} updated"]
    if result.duplicates:
        parts.append(f"{result.duplicates:,} repeated events stored once")
    return f"Imported {result.total:,} {upload.kind.value} from {upload.filename}: " + (
        ", ".join(parts) + "."
    )


@router.post("/data/imports/{upload_id}/import")
def run(upload_id: str, ctx: AnalystPage, _form: CsrfForm) -> Response:
    upload = _load(ctx, upload_id)
    if upload.options is None:
        return _review(ctx, upload, problem="Check the file first.", status_code=409)
    home, tenant = ctx.settings.home, ctx.tenant_id
    try:
        table = read_upload(home, tenant_id=tenant, upload_id=upload_id)
        result = commit_import(ctx.session, kind=upload.kind, table=table, options=upload.options)
    except ImportRejected as exc:
        return _review(ctx, upload, rejected=exc, status_code=400)
    except PropensityError as exc:
        return _review(ctx, upload, problem=exc.message, status_code=exc.status_code)
    discard_upload(home, tenant_id=tenant, upload_id=upload_id)
    return redirect_with("/data/imports", notice=_imported(upload, result))


@router.post("/data/imports/{upload_id}/discard")
def discard(upload_id: str, ctx: AnalystPage, _form: CsrfForm) -> Response:
    upload = _load(ctx, upload_id)
    discard_upload(ctx.settings.home, tenant_id=ctx.tenant_id, upload_id=upload_id)
    return redirect_with("/data/imports", notice=f"Discarded {upload.filename}.")
