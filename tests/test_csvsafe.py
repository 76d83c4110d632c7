"""Text that looks like a spreadsheet formula is neutralised in every CSV Propensity writes."""

from __future__ import annotations

import pandas as pd

from propensity.csvsafe import safe_cell, safe_frame


def test_formula_like_text_is_quoted_and_everything_else_kept() -> None:
    frame = pd.DataFrame(
        {
            "id": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "acme-1", None],
            "probability": [0.1, 0.2, -0.3, 0.4, 0.5, 0.6, 0.7],
        }
    )
    out = safe_frame(frame)
    assert out["id"].tolist()[:6] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "acme-1",
    ]
    assert pd.isna(out["id"].tolist()[6])
    # Numbers are numbers, negative ones included; the input is not changed.
    assert out["probability"].tolist() == frame["probability"].tolist()
    assert frame["id"][0].startswith("=")
    assert safe_cell("=1") == "'=1" and safe_cell(3) == 3
