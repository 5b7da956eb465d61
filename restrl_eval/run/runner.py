"""The run loop: benchmark -> strategy -> benchmark.check (through the executor) -> store.

Why chunks of tasks: a task's result must not depend on which tasks ran before it or on
where a previous attempt stopped, so each task is solved with its own derived seed and
its own requests. With ``batch_tasks=1`` (the default) a task is solved, judged and
committed before the next one starts. With ``batch_tasks=N`` the task list is cut into
fixed slices of N and the unfinished tasks of a slice are solved together
(``solve_many``: one policy call carries every task's rows, which is what makes MCTS and
best-of-N fast on a GPU or a multi-core CPU), judged, then committed. The slices are
fixed by the task list, not by what is left, so a run killed mid-slice solves the same
slice again on resume; only the floating-point effect of padding in a shared batch can
tell a batched run from a one-by-one run.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from restrl_eval.run.store import RunStore, eval_results, solution_id, summarize
from restrl_eval.strategies.base import Solution, SolveContext, Strategy, solve_batch

log = logging.getLogger(__name__)

__all__ = ["run_tasks", "sample_rows", "verdict_row", "sandbox_level"]


def sample_rows(solution: Solution) -> list[dict[str, Any]]:
    """One samples.jsonl row per candidate (the store adds ``task_id``)."""
    return [
        {
            "index": i,
            "chosen": i == solution.index,
            "solution": c.code,  # the program judged (format 1 called it "code")
            "text": c.text,
            "scores": dict(c.scores),
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "finish_reason": c.finish_reason,
        }
        for i, c in enumerate(solution.candidates)
    ]


def verdict_row(verdict: Any, solution: Solution, sid: str = "") -> dict[str, Any]:
    """One verdicts.jsonl row: the chosen program's verdict plus the strategy's cost,
    linked to its sample (``sample_index`` = the chosen candidate's ``index`` in
    samples.jsonl, ``solution_id`` = ``store.solution_id`` of its program)."""
    return {
        "sample_index": solution.index,
        "solution_id": sid,
        "passed": bool(verdict.passed),
        "status": str(getattr(verdict.status, "value", verdict.status)),
        "reward": float(verdict.reward),
        "tests_passed": int(verdict.tests_passed),
        "tests_total": int(verdict.tests_total),
        "details": dict(verdict.details),
        "chosen": solution.index,
        "cost": solution.cost.to_dict(),
    }


def sandbox_level(executor: Any) -> str:
    """The isolation level the executor actually achieved (recorded in config.json).

    Asked of the executor when it says, otherwise read from a trivial job's result, so the
    record reflects the machine the run used and not what was requested.
    """
    level = getattr(getattr(executor, "report", None), "level", None)
    if level:
        return str(level)
    from restrl_eval.execution import Job

    [result] = executor.run_many([Job(program="pass", tag="sandbox-probe")])
    return str(result.sandbox_level or "unknown")


def run_tasks(
    benchmark: Any,
    strategy: Strategy,
    ctx: SolveContext,
    store: RunStore,
    executor: Any,
    tasks: Sequence[Any],
    *,
    progress: bool | None = None,
    batch_tasks: int = 1,
) -> dict[str, Any]:
    """Solve, judge and store every task of ``tasks`` not yet finished in ``store``;
    write and return the summary over ``tasks``.

    ``progress``: True/False forces the tqdm bar on/off; None shows it on a terminal.
    ``batch_tasks``: tasks solved together per strategy call (see the module docstring).
    """
    if batch_tasks < 1:
        raise ValueError(f"batch_tasks must be at least 1 (got {batch_tasks})")
    from tqdm.auto import tqdm

    columns = tuple(benchmark.columns)
    data_hash = str((store.config.get("benchmark") or {}).get("data_hash") or benchmark.data_hash())
    todo = [t for t in tasks if not store.is_finished(t.task_id)]
    done_rows = [store.verdict(t.task_id) for t in tasks if store.is_finished(t.task_id)]
    passes = sum(bool(r["passed"]) for r in done_rows if r)
    done = len(tasks) - len(todo)
    if done:
        log.info("%d of %d task(s) already finished; %d to go", done, len(tasks), len(todo))
    if todo:  # e.g. evalplus: expected outputs, in parallel, once
        benchmark.prepare([t.task_id for t in todo], executor)
    bar = tqdm(total=len(tasks), initial=done, desc=f"{benchmark.name}/{strategy.spec.name}",
               unit="task", disable=(not progress) if progress is not None else None, dynamic_ncols=True)
    try:
        unfinished = {t.task_id for t in todo}
        for start in range(0, len(tasks), batch_tasks):
            chunk = [t for t in tasks[start:start + batch_tasks] if t.task_id in unfinished]
            if not chunk:
                continue
            solutions = solve_batch(strategy, chunk, ctx)
            judged = []
            for task, solution in zip(chunk, solutions):
                verdicts = benchmark.check(task, [solution.code], executor)
                if len(verdicts) != 1:
                    raise RuntimeError(f"{benchmark.name}.check returned {len(verdicts)} verdicts for 1 program")
                judged.append((task, solution, verdicts[0]))
            for task, solution, verdict in judged:
                sid = solution_id(benchmark.name, data_hash, task.task_id, solution.code)
                store.append(task.task_id, sample_rows(solution), verdict_row(verdict, solution, sid))
                passes += bool(verdict.passed)
                done += 1
                bar.update(1)
            bar.set_postfix(pass_rate=f"{passes / done:.3f}", refresh=False)
    finally:
        bar.close()
    rows = [store.verdict(t.task_id) for t in tasks]
    summary = summarize([r for r in rows if r is not None], columns, total_tasks=len(benchmark.tasks()))
    summary.update(_identity(store.config))
    store.write_summary(summary)
    _write_eval_results(store, data_hash, [t.task_id for t in benchmark.tasks()])
    return summary


def _write_eval_results(store: RunStore, data_hash: str, order: list[str]) -> None:
    """evalplus' eval_results.json over the chosen programs (as ``evaluate`` writes it)."""
    import datetime as _dt
    import json

    chosen = {(r["task_id"], r.get("index")): r.get("solution", r.get("code", "")) for r in store.samples()
              if r.get("chosen")}
    judged = [(tid, chosen.get((tid, v.get("chosen")), ""), v) for tid, v in store.finished.items()]
    date = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    store.write_file("eval_results.json", json.dumps(eval_results(data_hash, judged, order, date)) + "\n")


def _identity(config: Mapping[str, Any]) -> dict[str, Any]:
    """The few config fields a reader of summary.json needs without opening config.json."""
    model = config.get("model") or {}
    return {
        "benchmark": (config.get("benchmark") or {}).get("name"),
        "strategy": (config.get("strategy") or {}).get("name"),
        "model": model.get("spec") or model.get("model") or model.get("path"),
        "budget": config.get("budget"),
        "seed": config.get("seed"),
        "data_hash": (config.get("benchmark") or {}).get("data_hash"),
        "columns": list((config.get("benchmark") or {}).get("columns") or []),
    }

