"""The strategy contract: how a decoding strategy turns one task into one chosen program.

Why this shape: every strategy (greedy, sampling, best-of-N with an ORM or a PRM, and
the MCTS searches that come later) is compared on the same benchmarks and the same
budget axis, so they share one input (``SolveContext``) and one output (``Solution``
with its ``Cost``). The cost record is identical for every strategy, so a budget curve
compares like with like. Strategies are registered by the ``@strategy`` decorator, which
also records the name and the creation arguments on the object it builds (as inspect_ai's
``@solver`` does), so a run's config.json can rebuild exactly the same strategy.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from restrl_eval.registry import Registry


class StrategyError(ValueError):
    """Bad strategy name, argument or context (e.g. no scorer for ``orm``). One-line message."""


@dataclass(frozen=True)
class Cost:
    """What solving one task cost. The same figures (plus wall time) for every strategy.

    ``candidates`` counts complete programs sampled: the paper's budget unit.
    ``scorer_calls`` counts rows a reward/value model read and ``scorer_tokens`` their
    input tokens, both as the scorer reports them (``strategies.scoring``: blank programs
    are never scored, a text already scored for the task is not scored again); the
    paper leaves these uncounted, we count them so strategies with equal budgets can
    still be told apart.
    """

    candidates: int = 0
    scorer_calls: int = 0
    completion_tokens: int = 0
    prompt_tokens: int = 0
    wall_s: float = 0.0
    scorer_tokens: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.candidates + other.candidates,
            self.scorer_calls + other.scorer_calls,
            self.completion_tokens + other.completion_tokens,
            self.prompt_tokens + other.prompt_tokens,
            self.wall_s + other.wall_s,
            self.scorer_tokens + other.scorer_tokens,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "scorer_calls": self.scorer_calls,
            "scorer_tokens": self.scorer_tokens,
            "completion_tokens": self.completion_tokens,
            "prompt_tokens": self.prompt_tokens,
            "wall_s": round(self.wall_s, 6),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Cost:
        return cls(
            int(d.get("candidates", 0)),
            int(d.get("scorer_calls", 0)),
            int(d.get("completion_tokens", 0)),
            int(d.get("prompt_tokens", 0)),
            float(d.get("wall_s", 0.0)),
            int(d.get("scorer_tokens", 0)),
        )


class CostMeter:
    """Mutable accumulator a strategy feeds while it works; ``freeze()`` gives the ``Cost``.

    Why a helper: every strategy must count the same way, so the counting lives here and
    strategies only report events (generations received, states scored).
    """

    def __init__(self, *, clock: bool = True) -> None:
        # clock=False: the caller books wall time itself with ``spent`` (a batch of tasks
        # shares one policy call, and each task is charged its share of it).
        self._start = time.perf_counter() if clock else None
        self.wall_s = 0.0
        self.candidates = 0
        self.scorer_calls = 0
        self.scorer_tokens = 0
        self.completion_tokens = 0
        self.prompt_tokens = 0

    def generated(self, generations: Sequence[Any], *, complete: bool = True) -> None:
        """Count policy output. ``complete=False`` for partial continuations (MCTS steps):
        their tokens count, but they are not candidates."""
        for g in generations:
            self.completion_tokens += int(g.completion_tokens)
            self.prompt_tokens += int(g.prompt_tokens)
        if complete:
            self.candidates += len(generations)

    def scored(self, calls: int, tokens: int = 0) -> None:
        """Count scorer work: rows read and their input tokens (``strategies.scoring``)."""
        self.scorer_calls += int(calls)
        self.scorer_tokens += int(tokens)

    @property
    def clocked(self) -> bool:
        """True when the meter measures its own wall time from creation to ``freeze``."""
        return self._start is not None

    def spent(self, seconds: float) -> None:
        """Book ``seconds`` of wall time on this task (its share of shared work)."""
        self.wall_s += float(seconds)

    def freeze(self) -> Cost:
        running = time.perf_counter() - self._start if self._start is not None else 0.0
        return Cost(
            self.candidates,
            self.scorer_calls,
            self.completion_tokens,
            self.prompt_tokens,
            self.wall_s + running,
            self.scorer_tokens,
        )


@dataclass(frozen=True)
class Candidate:
    """One complete program a strategy sampled: the model's raw text, the program the
    benchmark extracted from it, every score it received, and its token counts."""

    text: str
    code: str
    scores: Mapping[str, Any] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""


@dataclass(frozen=True)
class Solution:
    """A strategy's answer for one task: the chosen program (``candidates[index].code``)."""

    code: str
    index: int
    candidates: tuple[Candidate, ...]
    cost: Cost


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings shared by every request a strategy makes for a task."""

    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ("```",)

    def to_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p,
                "max_tokens": self.max_tokens, "stop": list(self.stop)}


@dataclass(frozen=True)
class SolveContext:
    """Everything a strategy may use. ``budget`` caps complete candidates per task.

    ``seed`` is the run seed; strategies derive a per-task seed with ``task_seed`` so a
    task's result does not depend on which tasks ran before it (resume == fresh run).
    ``chat`` selects the benchmark's instruction prompt and the policy's chat template.
    """

    policy: Any  # restrl_eval.backends.base.Policy
    benchmark: Any  # restrl_eval.benchmarks.base.Benchmark
    budget: int
    seed: int
    sampling: SamplingParams = field(default_factory=SamplingParams)
    scorer: Any = None  # restrl_eval.backends.base.Scorer, or None
    chat: bool = True

    def prompt(self, task: Any) -> str:
        return self.benchmark.prompt(task, "chat" if self.chat else "completion")


def task_seed(seed: int, task_id: str) -> int:
    """A stable 31-bit seed for one task, independent of task order and of Python's hash salt."""
    digest = hashlib.sha256(f"{seed}\0{task_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@runtime_checkable
class Strategy(Protocol):
    """A decoding strategy. ``spec`` is set by ``@strategy``/``create_strategy``."""

    spec: StrategySpec
    default_budget: int
    default_temperature: float
    needs_scorer: bool

    def solve(self, task: Any, ctx: SolveContext) -> Solution: ...


def solve_batch(strategy: Strategy, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
    """Solve ``tasks`` together when the strategy can (``solve_many``), else one by one.

    Why optional: batching several tasks into each policy call is a speed matter only (a
    task's seed and rows are its own), so a third-party strategy that only has ``solve``
    still works in a batched run.
    """
    many = getattr(strategy, "solve_many", None)
    if callable(many) and len(tasks) > 1:
        solutions = list(many(list(tasks), ctx))
        if len(solutions) != len(tasks):
            raise RuntimeError(f"{strategy.spec.name}.solve_many returned {len(solutions)} solutions "
                               f"for {len(tasks)} tasks")
        return solutions
    return [strategy.solve(t, ctx) for t in tasks]


@dataclass(frozen=True)
class StrategySpec:
    """How a strategy object was made: enough to rebuild it from config.json."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "args": dict(self.args)}


STRATEGIES: Registry[Callable[..., Strategy]] = Registry("strategy", "restrl.strategies")
"""Maps a strategy name to a factory taking keyword arguments and returning a Strategy.
Third-party packages register factories in the ``restrl.strategies`` entry-point group."""


def _bind_args(name: str, factory: Callable[..., Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: record what was given
        return dict(kwargs)
    try:
        bound = sig.bind(**kwargs)
    except TypeError:
        known = [p for p in sig.parameters if p != "self"]
        bad = sorted(set(kwargs) - set(known))
        raise StrategyError(
            f"strategy {name!r} has no argument {', '.join(map(repr, bad)) or '?'} "
            f"(known: {', '.join(known) or 'none'})"
        ) from None
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != "self"}


def strategy(name: str, *aliases: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a strategy factory under ``name``; objects it builds carry ``spec``.

    Only keyword arguments are accepted, so the recorded args are exactly what config.json
    needs to call the factory again.
    """

    def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(factory)
        def make(**kwargs: Any) -> Any:
            args = _bind_args(name, factory, kwargs)
            obj = factory(**kwargs)
            obj.spec = StrategySpec(name, args)
            return obj

        # wraps copies a class's own attributes; its inherited declarations count too
        for attr in ("default_budget", "default_temperature", "needs_scorer", "single_candidate"):
            if hasattr(factory, attr):
                setattr(make, attr, getattr(factory, attr))
        make.strategy_name = name  # type: ignore[attr-defined]
        make.__signature__ = inspect.signature(factory)  # type: ignore[attr-defined]
        STRATEGIES.register(name, *aliases)(make)
        return make

    return deco


def create_strategy(name: str, args: Mapping[str, Any] | None = None) -> Strategy:
    """Build strategy ``name`` with keyword ``args``. Raises StrategyError / RegistryError
    with one-line messages. Factories from entry points that skip ``@strategy`` still get a
    ``spec`` here, so every run records how its strategy was made."""
    factory = STRATEGIES.get(name)
    args = dict(args or {})
    bound = _bind_args(name, factory, args)
    obj = factory(**args)
    if not isinstance(getattr(obj, "spec", None), StrategySpec):
        obj.spec = StrategySpec(name, bound)
    for attr, default in (("default_budget", 1), ("default_temperature", 0.7), ("needs_scorer", False)):
        if not hasattr(obj, attr):
            setattr(obj, attr, default)
    return obj
