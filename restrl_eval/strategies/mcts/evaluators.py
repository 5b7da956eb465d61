"""Leaf evaluators: how the one MCTS core puts a number on what it sampled.

Why three small classes behind one interface: VM-MCTS, ORM-MCTS and the execution-reward
search that collects value-training data share every line of the search and differ only
here. An evaluator receives, per tree and per round, the new partial programs (states) and
the complete programs the round produced, and returns one number for each:

- ``vm``: the value model ``V(problem, partial)`` values every new child state (no rollout)
  and, for the final verification, every complete program;
- ``orm``: the outcome reward model scores every complete program (the rollouts); states
  are not valued directly, a child's value comes from the rollouts through it;
- ``exec``: like ``orm`` but the number is the execution reward (fraction of tests passed,
  ``Benchmark.check`` through the sandboxed executor), for value-data collection.

One call per tree and round: a scorer sees all new states and programs of a tree at once.
Scorer costs are counted as every strategy counts them (``strategies.scoring``): the rows
and tokens the scorer reports, blank programs never scored (the search's cache already
keeps a text from being scored twice).
"""
from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from restrl_eval.strategies.scoring import metered

__all__ = [
    "EVALUATORS",
    "EvalJob",
    "EvalOutcome",
    "ExecutionEvaluator",
    "LeafEvaluator",
    "OutcomeEvaluator",
    "ValueEvaluator",
    "make_evaluator",
]


@dataclass(frozen=True)
class EvalJob:
    """What one tree asks to have valued in one round."""

    task: Any
    problem: str  # the text the scorer sees as the problem (the policy's prompt)
    states: tuple[str, ...] = ()  # partial programs (only asked of evaluators with values_states)
    programs: tuple[str, ...] = ()  # complete programs


@dataclass(frozen=True)
class EvalOutcome:
    """Values in job order; ``None`` for a score that is missing or not finite."""

    states: tuple[float | None, ...]
    programs: tuple[float | None, ...]
    scorer_calls: int = 0  # rows a reward/value model read
    executions: int = 0  # programs run in the sandbox
    scorer_tokens: int = 0  # their input tokens


def _finite(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _metered(scorer: Any, method: str, problem: str, texts: list[str]) -> tuple[list[Any], int, int]:
    """``scorer.method(problem, texts)`` and its cost in scorer rows and tokens (no call when empty)."""
    if not texts:
        return [], 0, 0
    got, calls, tokens = metered(scorer, partial(getattr(scorer, method), problem, texts), len(texts))
    return list(got), calls, tokens


def _check_len(what: str, got: Sequence[Any], want: int) -> None:
    if len(got) != want:  # a backend bug would silently misalign values and states
        raise RuntimeError(f"{what} returned {len(got)} values for {want} inputs")


class LeafEvaluator(abc.ABC):
    """Interface of the three evaluators.

    ``values_states``: True when children are valued directly from their state (VM-MCTS);
    False when a child's value comes from the rollouts sampled through it (ORM, exec).
    ``score_key``: the key under which a candidate's program value is recorded.
    """

    name: str = ""
    score_key: str = ""
    values_states: bool = False

    @abc.abstractmethod
    def evaluate(self, jobs: Sequence[EvalJob]) -> list[EvalOutcome]:
        """One outcome per job, in order."""

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name}


class _ScorerEvaluator(LeafEvaluator):
    """The scorer-backed evaluators: per job, one scorer call over its new states (when
    ``values_states``) and its non-blank programs; they differ in the scorer method."""

    method = ""  # the Scorer method: "value" (states and programs) or "score" (programs)

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer

    def evaluate(self, jobs: Sequence[EvalJob]) -> list[EvalOutcome]:
        out = []
        for job in jobs:
            programs = [p for p in job.programs if p.strip()]  # a blank program is never scored
            states = list(job.states) if self.values_states else []
            texts = states + programs
            values, calls, tokens = _metered(self.scorer, self.method, job.problem, texts)
            _check_len(f"scorer.{self.method}", values, len(texts))
            vals = [_finite(v) for v in values]
            by_program = dict(zip(programs, vals[len(states):]))
            state_vals = tuple(vals[: len(states)]) if self.values_states else (None,) * len(job.states)
            out.append(EvalOutcome(state_vals, tuple(by_program.get(p) for p in job.programs),
                                   scorer_calls=calls, scorer_tokens=tokens))
        return out


class ValueEvaluator(_ScorerEvaluator):
    """VM-MCTS: ``scorer.value`` on states and programs together, one call per job."""

    name = "vm"
    score_key = "vm"
    values_states = True
    method = "value"


class OutcomeEvaluator(_ScorerEvaluator):
    """ORM-MCTS: ``scorer.score`` on the complete programs (the rollouts)."""

    name = "orm"
    score_key = "orm"
    values_states = False
    method = "score"


class ExecutionEvaluator(LeafEvaluator):
    """Value-data collection: the execution reward of each complete program.

    The reward is ``Verdict.reward`` (fraction of tests passed), the official training
    reward. An empty program is worth 0 and is not run.
    """

    name = "exec"
    score_key = "reward"
    values_states = False

    def __init__(self, benchmark: Any, executor: Any) -> None:
        self.benchmark = benchmark
        self.executor = executor

    def evaluate(self, jobs: Sequence[EvalJob]) -> list[EvalOutcome]:
        out = []
        for job in jobs:
            todo = [i for i, p in enumerate(job.programs) if p.strip()]
            rewards: list[float | None] = [0.0] * len(job.programs)
            if todo:
                verdicts = self.benchmark.check(job.task, [job.programs[i] for i in todo], self.executor)
                _check_len(f"{getattr(self.benchmark, 'name', 'benchmark')}.check", verdicts, len(todo))
                for i, v in zip(todo, verdicts):
                    rewards[i] = _finite(v.reward)
            out.append(EvalOutcome((None,) * len(job.states), tuple(rewards), executions=len(todo)))
        return out


EVALUATORS = ("vm", "orm", "exec")


def make_evaluator(name: str, *, scorer: Any = None, benchmark: Any = None,
                   executor: Any = None) -> LeafEvaluator:
    """Build evaluator ``name``; ``vm``/``orm`` need a scorer, ``exec`` a benchmark and executor."""
    if name in ("vm", "orm"):
        if scorer is None:
            raise ValueError(f"the {name!r} evaluator needs a scorer")
        return ValueEvaluator(scorer) if name == "vm" else OutcomeEvaluator(scorer)
    if name == "exec":
        if benchmark is None or executor is None:
            raise ValueError("the 'exec' evaluator needs a benchmark and an executor")
        return ExecutionEvaluator(benchmark, executor)
    raise ValueError(f"unknown evaluator {name!r} (known: {', '.join(EVALUATORS)})")
