"""`GET /api/ml/insights/market`: trends from the tenant's own closed sales, filters,
timeframe validation, an honest empty answer, and tenant isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from propensity.db import Database
from propensity.models import PropertySale
from propensity.settings import Settings
from tests.factories import TenantUser, make_tenant_user
from tests.surfaces.ml_platform.helpers_scores import call, error_of, import_deals

END = datetime(2026, 5, 31, 12, tzinfo=UTC)


def _add_sales(database: Database, user: TenantUser) -> None:
    """Seattle condos: three sales in the 7 days before END, two in the 7 days before that;
    one Austin sale, later than all of them."""
    rows = [
        # (sale, list, days listed before sold, days sold before END, location)
        (520_000, 500_000, 10, 0, "seattle"),
        (450_000, 450_000, 6, 2, "seattle"),
        (612_000, 600_000, 20, 5, "seattle"),
        (400_000, 410_000, 30, 8, "seattle"),
        (440_000, 440_000, 12, 12, "seattle"),
        (300_000, 320_000, 50, -1, "austin"),
    ]
    with database.tenant_session(user.tenant_id) as session:
        for i, (sale, listed, on_market, ago, city) in enumerate(rows):
            sold = END - timedelta(days=ago)
            session.add(
                PropertySale(
                    external_id=f"s{i}",
                    property_type="condo",
                    location=city,
                    list_price=float(listed),
                    sale_price=float(sale),
                    listed_at=sold - timedelta(days=on_market),
                    sold_at=sold,
                )
            )
        session.commit()


def test_market_trends_from_the_tenants_sales(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings, slug="market")
    _add_sales(database, user)
    params = {"location": "Seattle", "propertyType": "condo", "timeframe": "7d"}
    data = call(client, user, "GET", "/insights/market", params=params)["data"]
    trends = data["marketTrends"]
    # Window (END - 7d, END]: the first three; the previous week: the next two.
    assert data["sampleSize"] == 3 and data["previousSampleSize"] == 2
    assert data["period"]["end"] == "2026-05-31T12:00:00Z"
    assert trends["priceGrowth"] == pytest.approx(round(520_000 / 420_000 - 1, 4))
    # Listed (days before END): 10, 8, 25, 38, 24. None in this week, two (10 and 8) in the
    # previous one.
    assert trends["inventoryChange"] == pytest.approx(0 / 2 - 1)
    assert trends["daysOnMarket"] == 10  # median of 10, 6, 20
    assert trends["saleToListRatio"] == pytest.approx(1.02)  # median of 1.04, 1.0, 1.02
    assert trends["buyerDemand"] == "high"
    assert [r["type"] for r in data["recommendations"]] == ["pricing", "marketing"]
    assert all(0 < r["confidence"] < 1 for r in data["recommendations"])
    pricing = data["insights"][0]
    assert pricing["data"] == {
        "averagePremium": round((0.04 + 0 + 0.02) / 3, 4),
        "sampleSize": 3,
        "timeframe": "7d",
    }
    # Unfiltered, the window ends at the latest sale (Austin's) and includes it.
    everything = call(client, user, "GET", "/insights/market", params={"timeframe": "7d"})
    assert everything["data"]["sampleSize"] == 4
    assert everything["data"]["period"]["end"] == "2026-06-01T12:00:00Z"


def test_empty_answer_validation_and_isolation(
    client: TestClient, database: Database, settings: Settings
) -> None:
    user = make_tenant_user(database, settings, slug="market")
    _add_sales(database, user)
    other = make_tenant_user(database, settings, slug="market-other")
    empty = call(client, other, "GET", "/insights/market")["data"]
    assert empty["sampleSize"] == 0 and empty["recommendations"] == [] and empty["insights"] == []
    assert set(empty["marketTrends"].values()) == {None}
    nowhere = call(client, user, "GET", "/insights/market", params={"location": "miami"})
    assert nowhere["data"]["sampleSize"] == 0
    for bad in ("14d", "1y", ""):
        response = client.get(
            "/api/ml/insights/market", headers=user.headers, params={"timeframe": bad}
        )
        assert response.status_code == 400, (bad, response.text)
        error = error_of(response.json())
        assert error["code"] == "VALIDATION_ERROR" and error["details"]["field"] == "timeframe"


def test_simulated_deals(client: TestClient, database: Database, settings: Settings) -> None:
    user = make_tenant_user(database, settings, slug="deals")
    import_deals(database, user.tenant_id, deals=400)
    data = call(client, user, "GET", "/insights/market", params={"timeframe": "90d"})["data"]
    end = datetime.fromisoformat(data["period"]["end"].replace("Z", "+00:00"))
    with database.tenant_session(user.tenant_id) as session:
        latest = session.scalar(sa.select(sa.func.max(PropertySale.sold_at)))
        in_window = session.scalar(
            sa.select(sa.func.count(PropertySale.id)).where(
                PropertySale.sold_at > end - timedelta(days=90), PropertySale.sold_at <= end
            )
        )
    assert latest is not None and abs((latest - end).total_seconds()) < 1
    assert data["sampleSize"] == in_window and in_window > 0
    trends = data["marketTrends"]
    assert trends["buyerDemand"] in ("high", "moderate", "low")
    assert isinstance(trends["priceGrowth"], float) and trends["daysOnMarket"] > 0
