"""``greedy``: one candidate decoded at temperature 0 (the deterministic baseline)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from restrl_eval.strategies.base import Solution, SolveContext, strategy
from restrl_eval.strategies.common import single_draws

__all__ = ["Greedy"]


@strategy("greedy")
class Greedy:
    """Argmax decoding. Uses one candidate whatever the budget (the budget is a cap)."""

    default_budget = 1
    single_candidate = True  # one candidate whatever the budget: run refuses --budget > 1, sweep gives one cell
    default_temperature = 0.0
    needs_scorer = False

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        return self.solve_many([task], ctx)[0]

    def solve_many(self, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
        return single_draws(tasks, ctx, 0.0)
