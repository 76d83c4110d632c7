"""Training choices reach every trainer: ridge's alpha and tree settings for health trend,
tree settings and the held-out fraction for time to close; recorded on the version."""

from __future__ import annotations

import math

from propensity.db import Database
from propensity.registry.service import get_version
from propensity.settings import Settings
from propensity.training.hyperparameters import parse_choices
from propensity.training.service import train_prediction_type
from tests.factories import make_simulated_tenant


def test_ridge_alpha_is_used_instead_of_the_search(database: Database, settings: Settings) -> None:
    tenant = make_simulated_tenant(database, settings, accounts=250)
    choices = parse_choices(
        prediction_type="HEALTH_TREND",
        algorithm="ridge",
        hyperparameters={"alpha": 37.0},
        validation_split=None,
    )
    outcome = train_prediction_type(
        database, tenant_id=tenant.tenant_id, prediction_type="HEALTH_TREND", choices=choices
    )
    with database.tenant_session(tenant.tenant_id) as session:
        version = get_version(session, version_id=outcome.version_id)
        assert version.algorithm == "ridge"
        assert version.hyperparameters["ridge"] == {"alpha": 37.0}
        assert "xgboost" not in version.hyperparameters
        assert version.training_config["requested"]["api"]["hyperparameters"] == {"alpha": 37.0}


def test_time_to_close_takes_tree_settings_and_the_held_out_fraction(
    database: Database, settings: Settings
) -> None:
    tenant = make_simulated_tenant(database, settings, leads=1500)
    choices = parse_choices(
        prediction_type="TIME_TO_CLOSE",
        algorithm="xgboost",
        hyperparameters={"maxDepth": 3, "minChildWeight": 12},
        validation_split=0.25,
    )
    outcome = train_prediction_type(
        database,
        tenant_id=tenant.tenant_id,
        prediction_type="TIME_TO_CLOSE",
        choices=choices,
        max_rows=1500,
    )
    with database.tenant_session(tenant.tenant_id) as session:
        version = get_version(session, version_id=outcome.version_id)
        trees = version.hyperparameters["xgboost"]
        assert trees["max_depth"] == 3 and trees["min_child_weight"] == 12.0
        model = version.training_summary["model"]
        assert model["test_rows"] == math.ceil(0.25 * model["rows"])
