"""``sample``: one candidate sampled at temperature T (default 0.7).

Why it exists: the paper's "base" row is not greedy decoding but a single sample at
T = 0.7 (as the official ReST-RL evaluation does), so reproducing that row needs this.
"""
from __future__ import annotations

from restrl_eval.strategies.base import SolveContext, strategy
from restrl_eval.strategies.common import SingleDraw

__all__ = ["Sample"]


@strategy("sample")
class Sample(SingleDraw):
    """One seeded sample at ``ctx.sampling.temperature``; the budget is a cap (uses 1)."""

    default_temperature = 0.7

    def draw_temperature(self, ctx: SolveContext) -> float:
        return ctx.sampling.temperature
