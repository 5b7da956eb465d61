"""Seeded bootstrap over tasks, and McNemar's exact test, for tables, plots and checks.

Why over tasks: a benchmark score is a mean over tasks, and the tasks are the sample we
would draw again; resampling them (with replacement, the same draws for every series of
a paired comparison) gives the interval a reader needs. Seeded, so a table or figure is
byte-identical when rebuilt.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from math import comb
from typing import Any

import numpy as np

__all__ = ["DEFAULT_BOOT", "draws", "interval", "mcnemar_exact", "rng_for"]

DEFAULT_BOOT = 2000


def rng_for(seed: int, *key: Any) -> np.random.Generator:
    """A generator seeded by ``seed`` and a stable key (e.g. a table cell), so every cell
    has its own reproducible stream whatever order cells are computed in."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return np.random.default_rng([int(seed), int.from_bytes(digest[:8], "big")])


def draws(values: Sequence[float] | np.ndarray, n_boot: int = DEFAULT_BOOT,
          rng: np.random.Generator | None = None, index: np.ndarray | None = None) -> np.ndarray:
    """``n_boot`` bootstrap means of ``values`` (resampled with replacement). ``index``:
    a precomputed ``(n_boot, len(values))`` resampling, to pair several series."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return np.full(n_boot, np.nan)
    if index is None:
        index = (rng or np.random.default_rng(0)).integers(0, x.size, size=(n_boot, x.size))
    return x[index].mean(axis=1)


def interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap ``samples`` (NaN when there are none)."""
    s = np.asarray(samples, dtype=float)
    s = s[~np.isnan(s)]
    if s.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(s, [tail, 1.0 - tail])
    return float(lo), float(hi)


def mcnemar_exact(worse: int, better: int) -> float:
    """One-sided exact McNemar p-value that the new system is worse: with ``worse`` tasks
    that went pass -> fail and ``better`` fail -> pass, P(X >= worse) for X ~ Bin(n, 1/2),
    n = worse + better (the discordant pairs). 1.0 when nothing changed."""
    n = worse + better
    if n == 0:
        return 1.0
    return float(sum(comb(n, k) for k in range(worse, n + 1)) / 2 ** n)
