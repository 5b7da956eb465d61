"""``sample``: one candidate sampled at temperature T (default 0.7).

Why it exists: the paper's "base" row is not greedy decoding but a single sample at
T = 0.7 (as the official ReST-RL evaluation does), so reproducing that row needs this.
"""
from __future__ import annotations

from typing import Any

from restrl_eval.strategies.base import CostMeter, Solution, SolveContext, strategy
from restrl_eval.strategies.common import draw_candidates

__all__ = ["Sample"]


@strategy("sample")
class Sample:
    """One seeded sample at ``ctx.sampling.temperature``; the budget is a cap (uses 1)."""

    default_budget = 1
    default_temperature = 0.7
    needs_scorer = False

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        meter = CostMeter()
        t = ctx.sampling.temperature
        candidates = draw_candidates(task, ctx, n=1, temperature=t, meter=meter)
        return Solution(candidates[0].code, 0, tuple(candidates), meter.freeze())
