"""Keep BLAS single-threaded while XGBoost's OpenMP threads work.

Measured on the 2-core target machine under load: with OpenBLAS and OpenMP both running two
threads, their spinning workers starve each other and one Telco training took 14-35 s instead of
2-3 s. The linear algebra here is on small matrices, where BLAS threads buy nothing anyway.
"""

from __future__ import annotations

import functools
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


# XGBoost trains with one thread unless the caller asks for more. Measured on the 2-core target
# machine while other work ran: with two OpenMP threads every boosting round's barriers waited
# for a descheduled worker, and trainings that take 0.4-0.7 s ran 9-13 s (one inner fold of a
# 5,000 x 85 table took 12.9 s instead of 0.7 s). On an idle machine two threads save about 30%
# at Telco size. The service runs several jobs side by side, so predictable single-threaded
# training is the default; `n_threads` raises it for a dedicated worker.
DEFAULT_THREADS = 1


def threads_for(requested: int | None) -> int:
    return DEFAULT_THREADS if requested is None else max(1, int(requested))
