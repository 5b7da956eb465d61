"""Decoding strategies and their registry.

``create_strategy(name, args)`` is the one way callers obtain a strategy. Importing this
package registers greedy, sample, orm and prm; the larger in-tree families (MCTS) are
imported on the first lookup; third-party packages register factories in the
``restrl.strategies`` entry-point group.
"""
from __future__ import annotations

from restrl_eval.strategies import best_of_n, greedy, sampling  # noqa: F401  (register)
from restrl_eval.strategies.base import (
    STRATEGIES,
    Candidate,
    Cost,
    CostMeter,
    SamplingParams,
    Solution,
    SolveContext,
    Strategy,
    StrategyError,
    StrategySpec,
    create_strategy,
    strategy,
    task_seed,
)

# The package is the public face of ``strategies.base``: its names are listed here only.
__all__ = [
    "STRATEGIES",
    "Candidate",
    "Cost",
    "CostMeter",
    "SamplingParams",
    "Solution",
    "SolveContext",
    "Strategy",
    "StrategyError",
    "StrategySpec",
    "create_strategy",
    "strategy",
    "strategy_names",
    "task_seed",
]

# The larger in-tree families register themselves when imported, on the first lookup.
STRATEGIES.add_modules("restrl_eval.strategies.mcts")


def strategy_names() -> list[str]:
    return STRATEGIES.names()
