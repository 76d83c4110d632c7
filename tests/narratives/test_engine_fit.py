"""The narrative inputs fit what the modeling engine produces: Explanation.row contributions,
the scoring frame's values, FeatureSpec definitions and the model's feature statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propensity.modeling import FeatureSpec, train_binary
from propensity.modeling.specs import FeatureGroup, FeatureKind
from propensity.narratives import PredictionFacts, narrate
from tests.narratives.inputs import narrative_texts
from tests.narratives.numbers import check, prediction_grounds


def test_a_trained_model_explanation_reads_as_grounded_text() -> None:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "open_tickets": rng.poisson(1.0, n).astype(float),
            "contract": rng.choice(["Month-to-month", "One year", "Two year"], n),
            "monthly_charges": rng.uniform(20, 110, n).round(2),
            "paperless_billing": rng.choice([0.0, 1.0], n),
        }
    )
    logit = 0.9 * frame["open_tickets"] + (frame["contract"] == "Month-to-month") * 1.5 - 1.5
    labels = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    specs = [
        FeatureSpec(name="open_tickets", kind=FeatureKind.NUMERIC, group=FeatureGroup.BEHAVIORAL),
        FeatureSpec(name="contract", kind=FeatureKind.CATEGORICAL, group=FeatureGroup.DEMOGRAPHIC),
        FeatureSpec(
            name="monthly_charges", kind=FeatureKind.NUMERIC, group=FeatureGroup.DEMOGRAPHIC
        ),
        FeatureSpec(
            name="paperless_billing", kind=FeatureKind.BOOLEAN, group=FeatureGroup.DEMOGRAPHIC
        ),
    ]
    model = train_binary(frame=frame, labels=labels, features=specs, seed=0, family="logistic")
    explanation = model.explain(frame.iloc[:20])
    for i in range(20):
        row = explanation.row(i)
        facts = PredictionFacts.build(
            prediction_type="CHURN",
            contributions=row["contributions"],
            values={str(k): v for k, v in frame.iloc[i].items()},
            definitions=specs,
            feature_stats=model.feature_stats,
            probability=row["prediction"],
            threshold=model.threshold,
            horizon_days=90,
        )
        narrative = narrate(facts=facts)
        assert (
            narrative.explanation.split(":")[1]
            .strip()
            .startswith(f"{round(row['prediction'] * 100)}% probability of churning within 90 days")
        )
        assert check(prediction_grounds(facts), narrative_texts(narrative)) == []
        for factor in [*narrative.risk_factors, *narrative.strengths]:
            assert "_" not in factor.description
