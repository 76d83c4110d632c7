"""Which candidate families a binary training run cross-fits, from the size of its data.

XGBoost and the linear model are always candidates: they are cheap and between them cover
interactions and smooth additive signal. CatBoost (ordered boosting on symmetric trees) wins
where both lose (credit_data, lending_club, bench/RESULTS.md) and costs about as much as
XGBoost per fit, a cost that grows with rows x design columns. It is a candidate
when it is installed and the development matrix has at most CATBOOST_MAX_CELLS cells: its
cross-fitting took 4.4 s (one thread, machine shared) on bench/backtest_speed.py's 5,000 x
149-column matrix (745,000 cells), and the whole backtest 18.7 s against its 30 s bound.
`search="narrow"` leaves it out whatever the size (callers with a short time budget);
`search="wide"` keeps it whatever the size.
"""

from __future__ import annotations

from typing import Literal

from propensity.modeling import catboost_trees

CandidateSearch = Literal["auto", "narrow", "wide"]
CATBOOST_MAX_CELLS = 1_000_000


def catboost_is_candidate(*, rows: int, columns: int, search: CandidateSearch) -> bool:
    if search == "narrow" or not catboost_trees.available():
        return False
    if search == "wide":
        return True
    return rows * columns <= CATBOOST_MAX_CELLS
