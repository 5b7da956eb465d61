"""The table a finished run (or evaluate folder) printed, rebuilt from its files.

Why: reprinting a run's scores must not load a model or judge anything; everything is in
summary.json (and config.json), read through the validating reader.
"""
from __future__ import annotations

from typing import Any

from restrl_eval.report.rundir import ResultsFolder

__all__ = ["folder_table"]


def _num(value: Any, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else "–"


def folder_table(folder: ResultsFolder) -> str:
    """One-row GitHub table: benchmark, strategy, model, tasks, pass@1 per column, mean
    reward and the per-task costs a run records (as ``restrl-eval run`` prints it)."""
    from tabulate import tabulate

    s, cfg = folder.summary, folder.config
    cols = folder.columns
    rates = s.get("pass_rate") or {c: (s.get("pass_at_k") or {}).get(c, {}).get("pass@1") for c in cols}
    n_tasks = s.get("n_tasks", s.get("tasks"))
    total = s.get("n_tasks_in_benchmark", s.get("total_tasks"))
    strategy = s.get("strategy") or (cfg.get("strategy") or {}).get("name") or folder.kind
    row = [folder.benchmark, strategy, s.get("model") or "–", f"{n_tasks}/{total}"]
    row += [_num(rates.get(c), ".3f") for c in cols]
    row.append(_num(s.get("mean_reward"), ".3f"))
    headers = ["benchmark", "strategy", "model", "tasks", *cols, "mean reward"]
    per = s.get("cost_per_task")
    if per:
        row += [_num(per.get("candidates"), ".1f"), _num(per.get("scorer_calls"), ".1f"),
                _num(per.get("completion_tokens"), ".0f"), _num(per.get("prompt_tokens"), ".0f"),
                _num(per.get("wall_s"), ".2f")]
        headers += ["cand/task", "scored/task", "gen tok/task", "prompt tok/task", "s/task"]
    elif s.get("n_samples") is not None:
        row.append(str(s["n_samples"]))
        headers.append("samples")
    skipped = sum((s.get("skipped") or {}).values())
    tail = f"\n\nskipped (not scored): {skipped}" if skipped else ""
    return tabulate([row], headers=headers, tablefmt="github", disable_numparse=True) + tail + \
        f"\n\n{folder.kind} directory: {folder.path}"
