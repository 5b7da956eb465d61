"""Line-level MCTS: one core (``search``), three leaf evaluators, two strategies.

``tree`` is the pure tree arithmetic, ``search`` the batched loop, ``evaluators`` the
vm / orm / exec leaf evaluators, ``strategies`` registers ``vm-mcts`` and ``orm-mcts``.
"""
from __future__ import annotations

from restrl_eval.strategies.mcts import strategies  # noqa: F401  (registers vm-mcts, orm-mcts)
from restrl_eval.strategies.mcts.evaluators import (
    EvalJob,
    EvalOutcome,
    ExecutionEvaluator,
    LeafEvaluator,
    OutcomeEvaluator,
    ValueEvaluator,
    make_evaluator,
)
from restrl_eval.strategies.mcts.search import MCTSConfig, Sample, SearchProblem, SearchResult, search_many
from restrl_eval.strategies.mcts.tree import Node, UCTParams

__all__ = [
    "EvalJob",
    "EvalOutcome",
    "ExecutionEvaluator",
    "LeafEvaluator",
    "MCTSConfig",
    "Node",
    "OutcomeEvaluator",
    "Sample",
    "SearchProblem",
    "SearchResult",
    "UCTParams",
    "ValueEvaluator",
    "make_evaluator",
    "search_many",
]
