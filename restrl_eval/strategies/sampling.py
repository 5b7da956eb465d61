"""``sample``: one candidate sampled at temperature T (default 0.7).

Why it exists: the paper's "base" row is not greedy decoding but a single sample at
T = 0.7 (as the official ReST-RL evaluation does), so reproducing that row needs this.
"""
from __future__ import annotations

from typing import Any, Sequence

from restrl_eval.strategies.base import CostMeter, Solution, SolveContext, strategy
from restrl_eval.strategies.common import draw_candidates_many

__all__ = ["Sample"]


@strategy("sample")
class Sample:
    """One seeded sample at ``ctx.sampling.temperature``; the budget is a cap (uses 1)."""

    default_budget = 1
    default_temperature = 0.7
    needs_scorer = False

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        return self.solve_many([task], ctx)[0]

    def solve_many(self, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
        meters = [CostMeter(clock=False) for _ in tasks]
        drawn = draw_candidates_many(tasks, ctx, n=1, temperature=ctx.sampling.temperature, meters=meters)
        return [Solution(c[0].code, 0, tuple(c), m.freeze()) for c, m in zip(drawn, meters)]
