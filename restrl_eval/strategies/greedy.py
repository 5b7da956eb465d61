"""``greedy``: one candidate decoded at temperature 0 (the deterministic baseline)."""
from __future__ import annotations

from restrl_eval.strategies.base import strategy
from restrl_eval.strategies.common import SingleDraw

__all__ = ["Greedy"]


@strategy("greedy")
class Greedy(SingleDraw):
    """Argmax decoding. Uses one candidate whatever the budget (the budget is a cap)."""

    default_temperature = 0.0
