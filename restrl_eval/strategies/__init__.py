"""Decoding strategies and their registry.

``create_strategy(name, args)`` is the one way callers obtain a strategy. Importing this
package registers greedy, sample, orm and prm; the larger in-tree families (MCTS) are
imported on the first lookup; third-party packages register factories in the
``restrl.strategies`` entry-point group.
"""
from __future__ import annotations

import importlib

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
    "load_in_tree",
    "strategy_names",
    "task_seed",
]

_LAZY_IN_TREE = ("restrl_eval.strategies.mcts",)
_loaded = False


def load_in_tree() -> None:
    """Import the lazily registered in-tree strategy modules (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in _LAZY_IN_TREE:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:  # a real missing dependency inside the module
                raise


def strategy_names() -> list[str]:
    load_in_tree()
    return STRATEGIES.names()
