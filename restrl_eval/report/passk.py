"""Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code").

Why its own module: every report (evaluate summaries, run tables, leaderboards) must use
the same estimator, computed in a numerically stable product form rather than with
huge binomial coefficients.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["pass_at_k", "estimate_pass_at_k", "ks_for"]

DEFAULT_KS = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn without replacement from
    ``n`` (of which ``c`` are correct) is correct: ``1 - C(n-c, k) / C(n, k)``."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def estimate_pass_at_k(num_samples: Sequence[int], num_correct: Sequence[int], k: int) -> np.ndarray:
    """Per-task pass@k for parallel sequences of sample counts and correct counts."""
    if len(num_samples) != len(num_correct):
        raise ValueError("num_samples and num_correct differ in length")
    return np.array([pass_at_k(int(n), int(c), k) for n, c in zip(num_samples, num_correct)], dtype=float)


def ks_for(num_samples: Iterable[int], ks: Iterable[int] = DEFAULT_KS) -> list[int]:
    """The ``k`` values reportable for these per-task sample counts (every task has n >= k)."""
    counts = list(num_samples)
    if not counts:
        return []
    low = min(counts)
    return [k for k in ks if k <= low]
