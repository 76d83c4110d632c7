"""A PrefixRouter answers exactly as an APIRouter does: the same route for every path under its
prefix, a 405 for a known path with another method, and paths outside it left to the routes
after it (even one that shares the prefix's first characters)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from propensity.prefix_router import PrefixRouter


def _app(router_class: type[APIRouter]) -> FastAPI:
    ml = router_class(prefix="/api/ml")

    @ml.get("")
    def ml_root() -> dict[str, str]:
        return {"at": "ml root"}

    @ml.get("/leads/{lead_id}/score")
    def score(lead_id: int) -> dict[str, str]:
        return {"at": f"score {lead_id}"}

    rest = router_class(prefix="/api")

    @rest.get("/{anything:path}")
    def catch_all(anything: str) -> dict[str, str]:
        return {"at": f"catch-all {anything}"}

    app = FastAPI()
    app.include_router(ml)
    app.include_router(rest)
    return app


CASES = [
    ("GET", "/api/ml"),
    ("GET", "/api/ml/leads/7/score"),
    ("POST", "/api/ml/leads/7/score"),
    ("GET", "/api/ml/leads/x/score"),
    ("GET", "/api/mlx/leads/7/score"),
    ("GET", "/api/ml/unknown"),
    ("GET", "/api/other"),
    ("GET", "/elsewhere"),
]


def test_every_path_gets_the_answer_a_plain_router_gives() -> None:
    gated = TestClient(_app(PrefixRouter))
    plain = TestClient(_app(APIRouter))
    for method, path in CASES:
        got, expected = gated.request(method, path), plain.request(method, path)
        assert (got.status_code, got.json()) == (expected.status_code, expected.json()), path
    # The cases do reach different routes, so the comparison above can fail.
    assert gated.get("/api/ml/leads/7/score").json() == {"at": "score 7"}
    assert gated.get("/api/mlx/leads/7/score").json() == {"at": "catch-all mlx/leads/7/score"}
    assert gated.post("/api/ml/leads/7/score").status_code == 405
    assert gated.get("/elsewhere").status_code == 404


def test_under_a_root_path_the_router_still_matches() -> None:
    client = TestClient(_app(PrefixRouter), root_path="/behind-proxy")
    assert client.get("/api/ml/leads/3/score").json() == {"at": "score 3"}
