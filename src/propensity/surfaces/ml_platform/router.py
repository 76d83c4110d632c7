"""The `/api/ml` router: each area of the document in its own module, included here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/ml", tags=["ml-platform"])
