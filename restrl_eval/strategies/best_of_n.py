"""Best-of-N baselines: ``orm`` (outcome reward) and ``prm`` (aggregated process reward).

Both draw exactly ``ctx.budget`` complete candidates in one batched request at
``ctx.sampling.temperature`` and return the one the scorer ranks highest (ties: the
earliest). Empty programs are not scored (they cannot pass and would waste scorer
calls); they rank last. ``prm`` scores every line prefix of a candidate (one state per
non-blank line) and aggregates the step scores, ``min`` by default as in the paper.
"""
from __future__ import annotations

from typing import Any

from restrl_eval.strategies.base import (
    Candidate,
    CostMeter,
    Solution,
    SolveContext,
    StrategyError,
    strategy,
)
from restrl_eval.strategies.common import best_index, clean_score, draw_candidates, split_steps

__all__ = ["OutcomeBestOfN", "ProcessBestOfN", "PRM_AGGREGATIONS"]

PRM_AGGREGATIONS = ("min", "last", "mean", "prod")
PAPER_BUDGET = 100  # Table 2 compares decoding methods at 100 complete samples per problem


def _require_scorer(name: str, ctx: SolveContext) -> Any:
    if ctx.scorer is None:
        raise StrategyError(f"strategy {name!r} needs a scorer (--scorer PATH)")
    return ctx.scorer


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
        scorer = _require_scorer("orm", ctx)
        meter = CostMeter()
        cands = draw_candidates(task, ctx, n=ctx.budget, temperature=ctx.sampling.temperature, meter=meter)
        todo = [i for i, c in enumerate(cands) if c.code.strip()]
        raw = scorer.score(ctx.prompt(task), [cands[i].code for i in todo]) if todo else []
        if len(raw) != len(todo):
            raise RuntimeError(f"scorer returned {len(raw)} scores for {len(todo)} programs")
        meter.scored(len(todo))
        scores: list[float | None] = [None] * len(cands)
        for i, s in zip(todo, raw):
            scores[i] = clean_score(s)
        cands = [_with_scores(c, orm=s) for c, s in zip(cands, scores)]
        k = best_index(scores)
        return Solution(cands[k].code, k, tuple(cands), meter.freeze())


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
        from restrl_eval.backends.base import aggregate

        scorer = _require_scorer("prm", ctx)
        meter = CostMeter()
        cands = draw_candidates(task, ctx, n=ctx.budget, temperature=ctx.sampling.temperature, meter=meter)
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
        k = best_index(scores)
        return Solution(scored[k].code, k, tuple(scored), meter.freeze())
