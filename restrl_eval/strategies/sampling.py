"""``sample``: one candidate sampled at temperature T (default 0.7).

Why it exists: the paper's "base" row is not greedy decoding but a single sample at
T = 0.7 (as the official ReST-RL evaluation does), so reproducing that row needs this.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from restrl_eval.strategies.base import Solution, SolveContext, strategy
from restrl_eval.strategies.common import single_draws

__all__ = ["Sample"]


@strategy("sample")
class Sample:
    """One seeded sample at ``ctx.sampling.temperature``; the budget is a cap (uses 1)."""

    default_budget = 1
    single_candidate = True  # one candidate whatever the budget: run refuses --budget > 1, sweep gives one cell
    default_temperature = 0.7
    needs_scorer = False

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        return self.solve_many([task], ctx)[0]

    def solve_many(self, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
        return single_draws(tasks, ctx, ctx.sampling.temperature)
