"""``greedy``: one candidate decoded at temperature 0 (the deterministic baseline)."""
from __future__ import annotations

from typing import Any

from restrl_eval.strategies.base import CostMeter, Solution, SolveContext, strategy
from restrl_eval.strategies.common import draw_candidates

__all__ = ["Greedy"]


@strategy("greedy")
class Greedy:
    """Argmax decoding. Uses one candidate whatever the budget (the budget is a cap)."""

    default_budget = 1
    default_temperature = 0.0
    needs_scorer = False

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        meter = CostMeter()
        candidates = draw_candidates(task, ctx, n=1, temperature=0.0, meter=meter)
        return Solution(candidates[0].code, 0, tuple(candidates), meter.freeze())
