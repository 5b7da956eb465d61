"""Best-of-N baselines: ``orm`` (outcome reward) and ``prm`` (aggregated process reward).

Both draw exactly ``ctx.budget`` complete candidates in one batched request at
``ctx.sampling.temperature`` and return the one the scorer ranks highest (ties: the
earliest). Empty programs are not scored (they cannot pass and would waste scorer
calls); they rank last. ``prm`` scores every line prefix of a candidate (one state per
non-blank line) and aggregates the step scores, ``min`` by default as in the paper.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

from restrl_eval.strategies.base import (
    Candidate,
    CostMeter,
    Solution,
    SolveContext,
    StrategyError,
    strategy,
)
from restrl_eval.strategies.common import best_index, clean_score, draw_candidates_many, split_steps

__all__ = ["OutcomeBestOfN", "ProcessBestOfN", "PRM_AGGREGATIONS"]

PRM_AGGREGATIONS = ("min", "last", "mean", "prod")
PAPER_BUDGET = 100  # Table 2 compares decoding methods at 100 complete samples per problem


def _require_scorer(name: str, ctx: SolveContext) -> Any:
    if ctx.scorer is None:
        raise StrategyError(f"strategy {name!r} needs a scorer (--scorer PATH)")
    return ctx.scorer


def _draw_and_rank(tasks: Sequence[Any], ctx: SolveContext, rank: Any) -> list[Solution]:
    """Draw ``ctx.budget`` candidates for every task in one policy call, then rank each
    task's candidates with ``rank(task, candidates, meter) -> (candidates, scores)``."""
    meters = [CostMeter(clock=False) for _ in tasks]
    drawn = draw_candidates_many(tasks, ctx, n=ctx.budget, temperature=ctx.sampling.temperature, meters=meters)
    solutions = []
    for task, cands, meter in zip(tasks, drawn, meters):
        t0 = time.perf_counter()
        cands, scores = rank(task, cands, meter)
        meter.spent(time.perf_counter() - t0)
        k = best_index(scores)
        solutions.append(Solution(cands[k].code, k, tuple(cands), meter.freeze()))
    return solutions


def _with_scores(c: Candidate, **scores: Any) -> Candidate:
    return Candidate(c.text, c.code, {**c.scores, **scores}, c.prompt_tokens,
                     c.completion_tokens, c.finish_reason)


@strategy("orm")
class OutcomeBestOfN:
    """Best-of-N ranked by ``scorer.score(problem, programs)`` (one state per program)."""

    default_budget = PAPER_BUDGET
    default_temperature = 0.7
    needs_scorer = True

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        return self.solve_many([task], ctx)[0]

    def solve_many(self, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
        scorer = _require_scorer("orm", ctx)
        return _draw_and_rank(tasks, ctx, lambda task, cands, meter: self._rank(scorer, task, cands, meter, ctx))

    @staticmethod
    def _rank(scorer: Any, task: Any, cands: list[Candidate], meter: CostMeter,
              ctx: SolveContext) -> tuple[list[Candidate], list[float | None]]:
        todo = [i for i, c in enumerate(cands) if c.code.strip()]
        raw = scorer.score(ctx.prompt(task), [cands[i].code for i in todo]) if todo else []
        if len(raw) != len(todo):
            raise RuntimeError(f"scorer returned {len(raw)} scores for {len(todo)} programs")
        meter.scored(len(todo))
        scores: list[float | None] = [None] * len(cands)
        for i, s in zip(todo, raw):
            scores[i] = clean_score(s)
        return [_with_scores(c, orm=s) for c, s in zip(cands, scores)], scores


@strategy("prm")
class ProcessBestOfN:
    """Best-of-N ranked by ``aggregate(scorer.score_steps(problem, steps), agg)``."""

    default_budget = PAPER_BUDGET
    default_temperature = 0.7
    needs_scorer = True

    def __init__(self, agg: str = "min") -> None:
        if agg not in PRM_AGGREGATIONS:
            raise StrategyError(f"prm: unknown aggregation {agg!r} (known: {', '.join(PRM_AGGREGATIONS)})")
        self.agg = agg

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        return self.solve_many([task], ctx)[0]

    def solve_many(self, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
        scorer = _require_scorer("prm", ctx)
        return _draw_and_rank(tasks, ctx, lambda task, cands, meter: self._rank(scorer, task, cands, meter, ctx))

    def _rank(self, scorer: Any, task: Any, cands: list[Candidate], meter: CostMeter,
              ctx: SolveContext) -> tuple[list[Candidate], list[float | None]]:
        from restrl_eval.backends.base import aggregate

        problem = ctx.prompt(task)
        scores: list[float | None] = []
        scored: list[Candidate] = []
        for c in cands:
            steps = split_steps(c.code)
            if not steps:
                scores.append(None)
                scored.append(_with_scores(c, prm=None, prm_steps=[]))
                continue
            step_scores = [float(s) for s in scorer.score_steps(problem, steps)]
            if len(step_scores) != len(steps):
                raise RuntimeError(f"scorer returned {len(step_scores)} step scores for {len(steps)} steps")
            meter.scored(len(steps))
            s = clean_score(aggregate(step_scores, how=self.agg))
            scores.append(s)
            scored.append(_with_scores(c, prm=s, prm_steps=step_scores))
        return scored, scores
