"""One basis for scorer cost: every strategy scores through here.

Why: ``orm``, ``prm``, ``orm-mcts`` and ``vm-mcts`` are compared at equal budgets, and
their scorer costs are only comparable when counted alike. The rules, for all of them:

- a blank program is never scored (it cannot pass; it ranks last with no score);
- a text a task has already had scored is not scored again (duplicates reuse the
  score and cost nothing);
- the cost of a call is what the scorer reports it read: the growth of its ``calls``
  (rows through the model) and ``tokens`` (their input tokens) counters. A sequence
  classifier reads one row per line prefix for a PRM, a token-level PRM one row per
  program; counting rows and tokens, not "states", keeps both honest. A third-party
  scorer without counters is charged one call per text and no tokens.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from restrl_eval.backends.base import split_steps

__all__ = ["TaskScorer", "metered"]


def _counters(scorer: Any) -> tuple[int | None, int]:
    calls = getattr(scorer, "calls", None)
    return (int(calls) if isinstance(calls, int) else None), int(getattr(scorer, "tokens", 0) or 0)


def metered(scorer: Any, fn: Callable[[], Any], texts: int) -> tuple[Any, int, int]:
    """``fn()``'s result and what it cost: ``(result, calls, tokens)``.

    ``texts`` is the number of texts handed to the scorer, the charge of a scorer that
    keeps no counters.
    """
    calls0, tokens0 = _counters(scorer)
    result = fn()
    calls1, tokens1 = _counters(scorer)
    calls = calls1 - calls0 if calls0 is not None and calls1 is not None else texts
    return result, calls, tokens1 - tokens0


def _finite(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class TaskScorer:
    """One task's access to the scorer: the problem text it reads, a cache, and a meter.

    ``problem`` is what fills ``{problem}`` (see ``common.scorer_problem``).
    """

    def __init__(self, scorer: Any, problem: str) -> None:
        self.scorer, self.problem = scorer, problem
        self.calls = 0
        self.tokens = 0
        self._cache: dict[tuple[str, str], Any] = {}

    def score(self, programs: Sequence[str]) -> list[float | None]:
        """Outcome score of each program; None for a blank program or a non-finite score."""
        return self._batched("score", programs, self.scorer.score)

    def value(self, texts: Sequence[str]) -> list[float | None]:
        """Value of each partial or complete program (VM); None for a blank one."""
        return self._batched("value", texts, self.scorer.value)

    def steps(self, programs: Sequence[str]) -> list[list[float] | None]:
        """Per-step scores of each program (``split_steps``); None for a blank program."""
        out: list[list[float] | None] = []
        for code in programs:
            lines = split_steps(code)
            if not lines:
                out.append(None)
                continue
            key = ("steps", code)
            if key not in self._cache:
                got, calls, tokens = metered(self.scorer, partial(self.scorer.score_steps, self.problem, lines),
                                             len(lines))
                if len(got) != len(lines):
                    raise RuntimeError(f"scorer returned {len(got)} step scores for {len(lines)} steps")
                self._charge(calls, tokens)
                self._cache[key] = [float(s) for s in got]
            out.append(list(self._cache[key]))
        return out

    def _batched(self, kind: str, texts: Sequence[str], fn: Callable[[str, list[str]], Sequence[float]]
                 ) -> list[float | None]:
        todo = list(dict.fromkeys(t for t in texts if t.strip() and (kind, t) not in self._cache))
        if todo:
            got, calls, tokens = metered(self.scorer, partial(fn, self.problem, todo), len(todo))
            if len(got) != len(todo):
                raise RuntimeError(f"scorer returned {len(got)} scores for {len(todo)} programs")
            self._charge(calls, tokens)
            self._cache.update({(kind, t): _finite(s) for t, s in zip(todo, got)})
        return [self._cache[(kind, t)] if t.strip() else None for t in texts]

    def _charge(self, calls: int, tokens: int) -> None:
        self.calls += calls
        self.tokens += tokens
