"""The documents' 403 FORBIDDEN: a viewer API key (made for the walk through `/api/v1/api-keys`,
revoked at the end) reads but may not bulk-predict, validate or change the ML configuration.
Each refusal must come in the envelope of the surface called."""

from __future__ import annotations

import httpx
from walk_checks import Walker, lead_error, ml_error


def walk_permissions(walker: Walker, *, config_id: int) -> None:
    created = walker.client.post("/api/v1/api-keys", json={"name": "walk-viewer", "role": "viewer"})
    if created.status_code != 201:
        walker.fail("POST", "/api/v1/api-keys", f"no viewer key: {created.status_code}")
        return
    key = created.json()
    viewer = Walker(
        httpx.Client(
            base_url=walker.client.base_url,
            headers={"Authorization": f"Bearer {key['key']}"},
            timeout=walker.client.timeout,
        ),
        walker.outcomes,  # one tally for the whole walk
    )
    try:
        viewer.call(
            "GET",
            f"/api/lead-scoring/{config_id}/ml/top-leads",
            params={"n": 1},
            expect=200,
            note="a viewer reads",
        )
        viewer.call(
            "POST",
            f"/api/lead-scoring/{config_id}/ml/bulk-predict",
            json={"limit": 1},
            expect=403,
            check=lead_error("FORBIDDEN"),
            note="a viewer may not bulk-predict",
        )
        viewer.call(
            "PUT",
            "/api/ml/config",
            json={"scoring": {"timeout": 45000}},
            expect=403,
            check=ml_error("FORBIDDEN"),
            note="a viewer may not change the configuration",
        )
    finally:
        viewer.client.close()
        walker.client.delete(f"/api/v1/api-keys/{key['id']}")
