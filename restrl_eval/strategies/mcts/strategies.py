"""``vm-mcts`` and ``orm-mcts``: the MCTS core as registered decoding strategies.

Why they look like best-of-N from outside: the budget curves compare ORM, PRM, ORM-MCTS
and VM-MCTS at equal budgets, so an MCTS strategy takes the same ``SolveContext``, draws
exactly ``ctx.budget`` complete candidates, records every candidate with its score, and
returns the same ``Cost`` record (candidates, scorer calls, tokens, wall time). The
answer is the top-scored complete candidate (the verification step). ``solve_many``
grows the trees of several tasks in lockstep so each policy call carries more rows; the
result of a task does not depend on its neighbours (per-task seeds, per-request rows).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from restrl_eval.strategies.base import Candidate, Cost, Solution, SolveContext, StrategyError, strategy, task_seed
from restrl_eval.strategies.common import scorer_problem
from restrl_eval.strategies.mcts.evaluators import make_evaluator
from restrl_eval.strategies.mcts.search import MCTSConfig, SearchProblem, SearchResult, search_many

__all__ = ["ORMMCTS", "VMMCTS", "check_prefix_support"]

PAPER_BUDGET = 100  # Table 2 and the budget curves' right end


def check_prefix_support(name: str, policy: Any, chat: bool) -> None:
    """Refuse a search on a policy that cannot continue a partial program.

    MCTS states are partial programs the policy must continue. A policy that would drop
    the prefix (the openai backend with ``prefill=False`` in chat mode) would make every
    expansion an independent sample while the tree believed otherwise, so the search
    stops before its first call instead.
    """
    supports = getattr(policy, "supports_prefix", None)
    if callable(supports) and not supports(chat):
        why = getattr(policy, "prefix_refusal", "it cannot continue a partial program")
        raise StrategyError(f"strategy {name!r} continues partial programs, but the {getattr(policy, 'name', '?')} "
                            f"policy cannot: {why}")


class _MCTSStrategy:
    evaluator = ""
    default_budget = PAPER_BUDGET
    default_temperature = 0.7  # official sampling temperature
    needs_scorer = True

    def __init__(self, **cfg: Any) -> None:
        try:
            self.cfg = MCTSConfig(**cfg)
        except (TypeError, ValueError) as exc:
            raise StrategyError(f"{self.evaluator}-mcts: {exc}") from None

    def solve(self, task: Any, ctx: SolveContext) -> Solution:
        return self.solve_many([task], ctx)[0]

    def solve_many(self, tasks: Sequence[Any], ctx: SolveContext) -> list[Solution]:
        if ctx.scorer is None:
            raise StrategyError(f"strategy '{self.evaluator}-mcts' needs a scorer (--scorer PATH)")
        check_prefix_support(f"{self.evaluator}-mcts", ctx.policy, ctx.chat)
        problems = [SearchProblem(t, ctx.prompt(t), task_seed(ctx.seed, t.task_id), ctx.budget,
                                  scorer_problem(ctx, t)) for t in tasks]
        results = search_many(
            problems, ctx.policy, make_evaluator(self.evaluator, scorer=ctx.scorer),
            ctx.benchmark.extract_code, cfg=self.cfg, temperature=ctx.sampling.temperature,
            top_p=ctx.sampling.top_p, max_tokens=ctx.sampling.max_tokens, stop=tuple(ctx.sampling.stop),
            chat=ctx.chat,
        )
        return [self._solution(r) for r in results]

    def _solution(self, result: SearchResult) -> Solution:
        cands = tuple(
            Candidate(s.text, s.code, {self.evaluator: s.value, "depth": s.depth, "expansion": s.expansion},
                      s.prompt_tokens, s.completion_tokens, s.finish_reason)
            for s in result.samples
        )
        st = result.stats
        cost = Cost(st.samples, st.scorer_calls, st.completion_tokens, st.prompt_tokens, st.wall_s, st.scorer_tokens)
        k = result.best_index()
        return Solution(cands[k].code, k, cands, cost)


@strategy("vm-mcts")
class VMMCTS(_MCTSStrategy):
    """VM-MCTS: children valued by the value model, no rollout; the VM picks the answer."""

    evaluator = "vm"

    def __init__(self, c: float = 0.1, eps: float = 0.1, k: int = 5, keep: int = 5,
                 leaves_per_call: int = 1, max_idle: int = 1) -> None:
        super().__init__(c=c, eps=eps, k=k, keep=keep, leaves_per_call=leaves_per_call, max_idle=max_idle)


@strategy("orm-mcts")
class ORMMCTS(_MCTSStrategy):
    """ORM-MCTS: rollouts scored by the outcome reward model; the ORM picks the answer."""

    evaluator = "orm"

    def __init__(self, c: float = 0.1, eps: float = 0.1, k: int = 5, keep: int = 5,
                 leaves_per_call: int = 1, child_credit: bool = True, max_idle: int = 1) -> None:
        super().__init__(c=c, eps=eps, k=k, keep=keep, leaves_per_call=leaves_per_call,
                         child_credit=child_credit, max_idle=max_idle)
