"""Vectorised sampling helpers shared by the generators."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def categorical(*, rng: np.random.Generator, weights: Mapping[str, float], n: int) -> np.ndarray:
    """``n`` labels drawn with the given (unnormalised) weights, as an object array."""
    labels = np.asarray(list(weights), dtype=object)
    p = np.asarray(list(weights.values()), dtype=np.float64)
    return labels[rng.choice(len(labels), size=n, p=p / p.sum())]


def binned_poisson_times(
    *,
    rng: np.random.Generator,
    rate: np.ndarray,
    bin_starts: np.ndarray,
    bin_days: float,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Event times of an inhomogeneous Poisson process with piecewise-constant rate.

    ``rate[i, k]`` is the expected count per ``bin_days`` for entity ``i`` in bin ``k`` (which
    starts at ``bin_starts[k]``); entity ``i`` is only exposed in ``[lo[i], hi[i])``. Returns
    (entity index, time in days) for every event, times uniform within the exposed part of
    their bin, ordered by entity and bin.
    """
    start = np.maximum(bin_starts[None, :], lo[:, None])
    stop = np.minimum(bin_starts[None, :] + bin_days, hi[:, None])
    exposure = np.clip(stop - start, 0.0, None)
    counts = rng.poisson(rate * (exposure / bin_days))
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    entity = flat // counts.shape[1]
    times = start.ravel()[flat] + rng.random(len(flat)) * exposure.ravel()[flat]
    return entity, times


def bin_counts(
    *, entity: np.ndarray, times: np.ndarray, n: int, bin_starts: np.ndarray, bin_days: float
) -> np.ndarray:
    """Event counts per (entity, bin); bin k is ``[bin_starts[k], bin_starts[k] + bin_days)``."""
    k = len(bin_starts)
    b = np.floor((times - bin_starts[0]) / bin_days).astype(np.int64)
    inside = (b >= 0) & (b < k)
    flat = entity[inside] * k + b[inside]
    return np.bincount(flat, minlength=n * k).reshape(n, k)


def last_time_before_bin_end(
    *,
    entity: np.ndarray,
    times: np.ndarray,
    n: int,
    bin_starts: np.ndarray,
    bin_days: float,
    initial: np.ndarray,
) -> np.ndarray:
    """``out[i, k]``: the latest event time of entity ``i`` before the end of bin ``k``.

    ``initial[i]`` stands in for events before the first bin (use -inf for "never").
    """
    k = len(bin_starts)
    latest = np.full(n * k, -np.inf)
    b = np.floor((times - bin_starts[0]) / bin_days).astype(np.int64)
    inside = (b >= 0) & (b < k)
    np.maximum.at(latest, entity[inside] * k + b[inside], times[inside])
    grid = latest.reshape(n, k)
    grid[:, 0] = np.maximum(grid[:, 0], initial)
    out: np.ndarray = np.maximum.accumulate(grid, axis=1)
    return out


def trailing_sum(counts: np.ndarray, *, end: np.ndarray, width: int) -> np.ndarray:
    """Per row ``i``: sum of ``counts[i, end[i] - width + 1 .. end[i]]`` (clipped at column 0).

    ``end[i] < 0`` gives 0.
    """
    csum = np.concatenate([np.zeros((counts.shape[0], 1)), np.cumsum(counts, axis=1)], axis=1)
    rows = np.arange(counts.shape[0])
    hi = np.clip(end + 1, 0, counts.shape[1])
    lo = np.clip(end + 1 - width, 0, counts.shape[1])
    out: np.ndarray = csum[rows, hi] - csum[rows, lo]
    return out


def lognormal_median(
    *, rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int
) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))
