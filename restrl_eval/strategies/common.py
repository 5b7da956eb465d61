"""Pieces every sampling-based strategy shares: one batched draw of complete candidates,
the split of a program into process steps, and the choice of the top-scored candidate.

Why here: greedy, sampling and best-of-N differ only in how many candidates they draw,
at which temperature, and how they rank them. Keeping the draw and the ranking in one
place keeps the cost accounting and the tie-breaking identical across strategies.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from restrl_eval.backends.base import split_steps
from restrl_eval.strategies.base import Candidate, CostMeter, Solution, SolveContext, task_seed

__all__ = ["draw_candidates", "draw_candidates_many", "SingleDraw", "split_steps", "best_index", "clean_score",
           "raw_problem", "scorer_problem"]


def draw_candidates(
    task: Any, ctx: SolveContext, *, n: int, temperature: float, meter: CostMeter
) -> list[Candidate]:
    """Sample ``n`` complete programs for ``task`` in one batched request.

    The request's seed is derived from the run seed and the task id, so the same task
    gets the same candidates whether it runs first, last, or after a resume.
    """
    return draw_candidates_many([task], ctx, n=n, temperature=temperature, meters=[meter])[0]


def draw_candidates_many(
    tasks: Sequence[Any], ctx: SolveContext, *, n: int, temperature: float, meters: Sequence[CostMeter]
) -> list[list[Candidate]]:
    """Sample ``n`` complete programs for each of ``tasks`` in ONE policy call.

    Each task keeps its own request and seed, so its candidates are what it would get
    alone (up to the floating-point effect of padding in a shared batch). Meters created
    with ``clock=False`` are charged the call's wall time in proportion to their tokens.
    """
    from restrl_eval.backends.base import GenerationRequest  # heavy backends stay lazy

    requests = [
        GenerationRequest(
            prompt=ctx.prompt(task),
            chat=ctx.chat,
            n=n,
            temperature=temperature,
            top_p=ctx.sampling.top_p if temperature > 0 else 1.0,
            max_tokens=ctx.sampling.max_tokens,
            stop=tuple(ctx.sampling.stop),
            seed=task_seed(ctx.seed, task.task_id),
        )
        for task in tasks
    ]
    t0 = time.perf_counter()
    results = ctx.policy.generate(requests)
    elapsed = time.perf_counter() - t0
    if len(results) != len(requests):
        raise RuntimeError(f"policy returned {len(results)} results for {len(requests)} requests")
    out: list[list[Candidate]] = []
    weights = [sum(int(g.completion_tokens) + 1 for g in gens) for gens in results]
    for task, generations, meter, w in zip(tasks, results, meters, weights):
        if len(generations) != n:  # a backend bug would silently break the budget
            raise RuntimeError(f"policy returned {len(generations)} generations for n={n}")
        meter.generated(generations)
        t1 = time.perf_counter()
        out.append([
            Candidate(
                text=g.text,
                code=ctx.benchmark.extract_code(task, g.text),
                prompt_tokens=int(g.prompt_tokens),
                completion_tokens=int(g.completion_tokens),
                finish_reason=str(g.finish_reason),
            )
            for g in generations
        ])
        if not meter.clocked:
            meter.spent(elapsed * w / sum(weights) + time.perf_counter() - t1)
    return out


class SingleDraw:
    """Base of the one-candidate strategies (``greedy``, ``sample``): one candidate per task,
    all tasks in one policy call, and the candidate is the answer. The budget is a cap (uses 1).
    Subclasses differ only in ``draw_temperature``."""

    default_budget = 1
    single_candidate = True  # one candidate whatever the budget: run refuses --budget > 1, sweep gives one cell
    default_temperature = 0.0
    needs_scorer = False

    def draw_temperature(self, ctx: SolveContext) -> float:
        return self.default_temperature

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        return self.solve_many([task], ctx)[0]

    def solve_many(self, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
        meters = [CostMeter(clock=False) for _ in tasks]
        drawn = draw_candidates_many(tasks, ctx, n=1, temperature=self.draw_temperature(ctx), meters=meters)
        return [Solution(c[0].code, 0, tuple(c), m.freeze()) for c, m in zip(drawn, meters)]


def raw_problem(benchmark: Any, task: Any) -> str:
    """The task's own problem text, before any prompt formatting.

    This is what the official value model read as ``{problem}`` (APPS: the question), and
    what a scorer trained with ``problem_field: raw`` expects, so it must be the text the
    trainer's data held (``restrl_train.data.outcomes`` calls this too): the benchmark's
    ``problem_text(task)`` (APPS: the question; HumanEval/MBPP/BigCodeBench: the prompt,
    signature and docstring, the problem as published).
    """
    return str(benchmark.problem_text(task))


def scorer_problem(ctx: SolveContext, task: Any) -> str:
    """What fills the scorer's ``{problem}``: its ``problem_field`` decides (``raw``: the
    task's problem text; ``prompt``, the default: the policy's prompt)."""
    field = getattr(ctx.scorer, "problem_field", "prompt")
    if field == "raw":
        return raw_problem(ctx.benchmark, task)
    if field != "prompt":
        raise ValueError(f"scorer problem_field {field!r}: expected raw or prompt")
    return ctx.prompt(task)


def clean_score(x: Any) -> float | None:
    """A finite float, or None for a missing/NaN/infinite score (ranked last)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def best_index(scores: Sequence[float | None]) -> int:
    """Index of the highest score; ties go to the earliest candidate; None ranks last."""
    best, best_score = 0, None
    for i, s in enumerate(scores):
        if s is not None and (best_score is None or s > best_score):
            best, best_score = i, s
    return best
