"""``greedy``: one candidate decoded at temperature 0 (the deterministic baseline)."""
from __future__ import annotations

from typing import Any, Sequence

from restrl_eval.strategies.base import CostMeter, Solution, SolveContext, strategy
from restrl_eval.strategies.common import draw_candidates_many

__all__ = ["Greedy"]


@strategy("greedy")
class Greedy:
    """Argmax decoding. Uses one candidate whatever the budget (the budget is a cap)."""

    default_budget = 1
    default_temperature = 0.0
    needs_scorer = False

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        return self.solve_many([task], ctx)[0]

    def solve_many(self, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
        meters = [CostMeter(clock=False) for _ in tasks]
        drawn = draw_candidates_many(tasks, ctx, n=1, temperature=0.0, meters=meters)
        return [Solution(c[0].code, 0, tuple(c), m.freeze()) for c, m in zip(drawn, meters)]
