"""Shared helpers for import tests: tenants, files in each format, database snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from propensity.db import Database
from propensity.models import Customer, Event, HealthSnapshot, Lead, LeadScoringConfig, PropertySale
from propensity.tenancy.service import create_tenant

CRM_MODELS = (Customer, LeadScoringConfig, Lead, Event, HealthSnapshot, PropertySale)


def new_tenant(database: Database, slug: str) -> int:
    with database.system_session() as session:
        return create_tenant(session, slug=slug).id


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Writes rows as CSV, JSON Lines or Parquet, chosen by the file name."""
    frame = pd.DataFrame.from_records(rows)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix in {".jsonl", ".ndjson"}:
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        frame.to_parquet(path, index=False)
    return path


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every CRM table, all tenants, in a stable order."""
    contents: dict[str, list[tuple[Any, ...]]] = {}
    with database.engine.connect() as connection:
        for model in CRM_MODELS:
            table = model.__table__
            rows = connection.execute(sa.select(table).order_by(table.c.id)).all()
            contents[table.name] = [tuple(row) for row in rows]
    return contents


def count(database: Database, tenant_id: int, model: type[Any]) -> int:
    with database.tenant_session(tenant_id) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
