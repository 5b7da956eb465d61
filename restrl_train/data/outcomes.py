"""Outcome data for ORM training: K sampled programs per problem, each judged in the sandbox.

Why this reuses restrl_eval: sampling is ``draw_candidates_many`` (the ``sample``/``orm``
strategies' batched draw: per-task seeds, the benchmark's prompt and code extraction) and
judging is ``benchmark.check`` on the sandboxed ``Executor``, so an outcome record is
exactly what a best-of-N run would have sampled and how it would have been judged.

Records (``kind: outcome``): ``problem`` is the raw problem text (what the official value
model reads), ``prompt`` the policy prompt, ``code`` the extracted program, ``reward`` the
fraction of tests passed and ``passed`` whether all passed. Each finished problem is
appended in one fsynced write closed by its ``task`` row (``ValueRecordFile``), so a
crash loses at most the problem in flight and a rerun resumes.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["collect_outcomes", "outcome_rows"]


def outcome_rows(task: Any, problem: str, prompt: str, candidates: Sequence[Any],
                 verdicts: Sequence[Any]) -> list[dict[str, Any]]:
    """One ``outcome`` record per judged candidate, in sampling order."""
    rows = []
    for i, (c, v) in enumerate(zip(candidates, verdicts)):
        rows.append({"task_id": task.task_id, "kind": "outcome", "index": i, "problem": problem,
                     "prompt": prompt, "code": c.code, "reward": float(v.reward), "passed": bool(v.passed),
                     "status": str(v.status), "tests_passed": int(v.tests_passed),
                     "tests_total": int(v.tests_total), "completion_tokens": int(c.completion_tokens),
                     "finish_reason": c.finish_reason})
    return rows


def collect_outcomes(benchmark: Any, policy: Any, tasks: Sequence[Any], store: Any, *, n: int, seed: int,
                     sampling: Any, chat: bool, workers: int, batch_tasks: int,
                     on_task: Callable[[], None] | None = None) -> None:
    """Sample ``n`` programs per task (``batch_tasks`` tasks per policy call), judge them,
    and append each task's records to ``store`` (a ``ValueRecordFile``)."""
    from restrl_eval.execution import Executor
    from restrl_eval.strategies.base import CostMeter, SolveContext
    from restrl_eval.strategies.common import draw_candidates_many, raw_problem

    ctx = SolveContext(policy=policy, benchmark=benchmark, budget=n, seed=seed, sampling=sampling, chat=chat)
    with Executor(workers=workers, preload=tuple(benchmark.preload)) as ex:
        for start in range(0, len(tasks), batch_tasks):
            chunk = tasks[start:start + batch_tasks]
            meters = [CostMeter(clock=False) for _ in chunk]
            drawn = draw_candidates_many(chunk, ctx, n=n, temperature=sampling.temperature, meters=meters)
            for task, cands, meter in zip(chunk, drawn, meters):
                verdicts = benchmark.check(task, [c.code for c in cands], ex)
                rows = outcome_rows(task, raw_problem(benchmark, task), ctx.prompt(task), cands, verdicts)
                rewards = [r["reward"] for r in rows]
                store.append(rows, {"task_id": task.task_id, "kind": "task", "samples": len(rows),
                                    "passed": sum(r["passed"] for r in rows),
                                    "best_reward": max(rewards), "mean_reward": sum(rewards) / len(rewards),
                                    "completion_tokens": meter.completion_tokens,
                                    "wall_s": round(meter.wall_s, 3)})
                if on_task is not None:
                    on_task()
