"""The report's numbers, computed from the stored runs (never from a summary line).

Why its own module: every figure of the report (paired differences, search diagnostics,
verifier metrics) is a function of run folders and JSON files the stages wrote, so the
report rebuilds byte-identically from them and a test can check each function alone.
Differences are paired over the same tasks (one bootstrap resampling of the tasks per
comparison, seeded by the comparison's name), which is what makes a 2-point effect on
200 problems visible at all.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restrl_eval.report import bootstrap

__all__ = ["Diff", "paired_diff", "per_task", "tree_stats", "verifier_metrics"]

MCTS = ("orm-mcts", "vm-mcts")


@dataclass(frozen=True)
class Diff:
    """``a - b`` over the tasks both ran: the mean and its paired bootstrap interval."""

    a: str
    b: str
    mean_a: float
    mean_b: float
    diff: float
    lo: float
    hi: float
    n: int

    def verdict(self) -> str:
        if self.n == 0:
            return "no common tasks"
        if self.lo > 0:
            return "higher (CI above 0)"
        if self.hi < 0:
            return "lower (CI below 0)"
        return "no clear difference (CI includes 0)"


def per_task(runs: Iterable[str | Path]) -> Any:
    """pass@1 per task (the mean over the runs given, e.g. several seeds), a pandas Series."""
    from restrl_eval.report import tidy

    df = tidy.load([str(r) for r in runs])
    return df.groupby("task_id")["passed"].mean().astype(float)


def paired_diff(a: Any, b: Any, names: tuple[str, str], *, level: float, n_boot: int, seed: int) -> Diff:
    """Paired bootstrap over the common tasks of two per-task Series."""
    common = a.index.intersection(b.index)
    if common.empty:
        nan = float("nan")
        return Diff(names[0], names[1], nan, nan, nan, nan, nan, 0)
    x, y = a[common].to_numpy(), b[common].to_numpy()
    d = bootstrap.draws(x - y, n_boot, bootstrap.rng_for(seed, "paired", *names))
    lo, hi = bootstrap.interval(d, level)
    return Diff(names[0], names[1], float(x.mean()), float(y.mean()), float((x - y).mean()), lo, hi, int(common.size))


def _jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def tree_stats(run_dir: str | Path) -> dict[str, float]:
    """MCTS search diagnostics of one run folder, per task then averaged: candidates, distinct
    programs, the deepest leaf a candidate was sampled from (0 = the root: an independent
    sample) and the mean depth. Read from ``samples.jsonl``, whose MCTS candidates carry
    ``scores.depth``."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in _jsonl(Path(run_dir) / "samples.jsonl"):
        by_task.setdefault(str(row["task_id"]), []).append(row)
    if not by_task:
        return {"tasks": 0}
    cands, distinct, deepest, mean_depth, deep_share = [], [], [], [], []
    for rows in by_task.values():
        depths = [int((r.get("scores") or {}).get("depth", 0) or 0) for r in rows]
        cands.append(len(rows))
        distinct.append(len({r.get("solution", r.get("code")) for r in rows}))
        deepest.append(max(depths))
        mean_depth.append(sum(depths) / len(depths))
        deep_share.append(sum(d >= 2 for d in depths) / len(depths))
    n = len(by_task)
    return {"tasks": n, "candidates": sum(cands) / n, "distinct": sum(distinct) / n, "max_depth": sum(deepest) / n,
            "mean_depth": sum(mean_depth) / n, "share_depth2": sum(deep_share) / n,
            "tasks_depth2": sum(d >= 2 for d in deepest) / n}


def sweep_cells(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """The sweep's CSV rows (strategy, budget, run_dir ...), cells moved with the sweep found beside it."""
    import csv

    path = Path(sweep_dir) / "sweep.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if not Path(r["run_dir"]).is_dir():
            r["run_dir"] = str(Path(sweep_dir) / "cells" / Path(r["run_dir"]).name)
    return rows


def verifier_metrics(report_path: str | Path) -> dict[str, Any]:
    """The ranking figures of an eval-scorer report: within-problem AUC (and CI), pairwise
    accuracy, Spearman, best-of-N vs random and oracle."""
    rep = json.loads(Path(report_path).read_text(encoding="utf-8"))
    p, t = rep.get("programs") or {}, rep.get("targets") or {}
    return {"kind": rep.get("kind"), "within_auc": p.get("within_auc"), "auc_ci": p.get("within_auc_ci95"),
            "auc_problems": p.get("within_auc_problems"), "pairwise": p.get("pairwise_accuracy"),
            "pairs": p.get("pairs"), "programs": p.get("examples"), "problems": p.get("problems"),
            "spearman": t.get("spearman"), "target_pairwise": t.get("pairwise_accuracy"),
            "best_of_n": list(p.get("best_of_n") or [])}


def ordering_checks(diffs: Mapping[str, Diff], pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str, Diff]]:
    """For each expected ``(higher, lower)`` pair with a measured Diff: (higher, lower, diff)."""
    return [(a, b, diffs[f"{a} - {b}"]) for a, b in pairs if f"{a} - {b}" in diffs]
