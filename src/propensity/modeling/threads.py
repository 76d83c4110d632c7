"""Keep BLAS single-threaded while XGBoost's OpenMP threads work.

Measured on the 2-core target machine under load: with OpenBLAS and OpenMP both running two
threads, their spinning workers starve each other and one Telco training took 14-35 s instead of
2-3 s. The linear algebra here is on small matrices, where BLAS threads buy nothing anyway.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from threadpoolctl import ThreadpoolController

P = ParamSpec("P")
R = TypeVar("R")

_controller: ThreadpoolController | None = None


def _get_controller() -> ThreadpoolController:
    global _controller  # one scan of the loaded libraries per process
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def single_threaded_blas(function: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _get_controller().limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper


# Below this many matrix cells (rows x columns) XGBoost trains with one thread. Measured here:
# at Telco size (5,600 x 45) two threads save 30% of a round on an idle machine, but on a busy
# 2-core machine every round's thread barrier waits for a descheduled worker and training ran
# 3-10x slower (0.8 s became 9-12 s). Larger matrices do enough work per round to gain from
# parallelism despite that.
SINGLE_THREAD_CELLS = 1_000_000
MAX_THREADS = 2


def threads_for(n_rows: int, n_columns: int, requested: int | None) -> int:
    if requested is not None:
        return max(1, int(requested))
    if n_rows * n_columns < SINGLE_THREAD_CELLS:
        return 1
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))
