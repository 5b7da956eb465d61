"""Best-of-N baselines: ``orm`` (outcome reward) and ``prm`` (aggregated process reward).

Both draw exactly ``ctx.budget`` complete candidates in one batched request at
``ctx.sampling.temperature`` and return the one the scorer ranks highest (ties: the
earliest). Scoring goes through ``strategies.scoring``: blank programs are not scored
(they cannot pass; they rank last), a duplicate program reuses its score, and the cost
is the rows and tokens the scorer read. ``prm`` scores every line prefix of a candidate
(one step per non-blank line) and aggregates the step scores, ``min`` by default as in
the paper; ``prod`` multiplies step probabilities (a sigmoid turns a scorer's raw
outputs into probabilities first, see ``backends.aggregate``).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from restrl_eval.strategies.base import (
    Candidate,
    CostMeter,
    Solution,
    SolveContext,
    StrategyError,
    strategy,
)
from restrl_eval.strategies.common import best_index, clean_score, draw_candidates_many, scorer_problem, split_steps
from restrl_eval.strategies.scoring import TaskScorer

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
        ts = TaskScorer(scorer, scorer_problem(ctx, task))
        scores = ts.score([c.code for c in cands])
        meter.scored(ts.calls, ts.tokens)
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

        scale = "prob" if getattr(scorer, "probabilities", False) else "raw"
        ts = TaskScorer(scorer, scorer_problem(ctx, task))
        scores: list[float | None] = []
        scored: list[Candidate] = []
        for c, step_scores in zip(cands, ts.steps([c.code for c in cands])):
            if step_scores is None:
                scores.append(None)
                scored.append(_with_scores(c, prm=None, prm_steps=[]))
                continue
            given = given_steps(c.code, task.prompt)
            own = step_scores[given:] or step_scores
            s = clean_score(aggregate(own, how=self.agg, scale=scale))
            scores.append(s)
            scored.append(_with_scores(c, prm=s, prm_steps=step_scores, prm_given_steps=given))
        meter.scored(ts.calls, ts.tokens)
        return scored, scores


def given_steps(code: str, prompt: str) -> int:
    """How many leading steps of ``code`` lie inside the task's ``prompt`` (a completion-style
    program repeats its signature and docstring). Those states are the same for every
    candidate, so their scores cannot rank candidates; under ``min`` or ``prod`` they could
    only mask the steps that differ (a low score on the docstring ties the whole pool)."""
    steps = split_steps(code)
    n = 0
    for i in range(1, len(steps) + 1):
        if not prompt.startswith("\n".join(steps[:i]) + "\n"):
            break
        n = i
    return n
