"""The regression check: a new run against a baseline (a leaderboard entry or a folder),
task by task, on the same tasks and the same data.

The test is McNemar's exact test, one-sided: only the tasks whose verdict changed carry
information; with ``worse`` tasks gone pass -> fail and ``better`` fail -> pass, the
p-value is P(X >= worse) for X ~ Binomial(worse + better, 1/2). A regression is a pass@1
drop larger than ``margin`` whose p-value is below ``alpha``: a small drop that chance
explains passes, a large one that chance does not explain fails. McNemar needs one
verdict per task (runs; evaluate folders with one sample per task), so several samples
per task are refused rather than thresholded. ``strict`` also fails on any task whose
verdict, status or program (``solution_id``) changed at all: for deterministic runs
(greedy decoding in CI), where any change means decoding or judging changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from restrl_eval.report.bootstrap import mcnemar_exact
from restrl_eval.report.rundir import ResultsError

__all__ = ["CheckResult", "compare", "markdown"]


@dataclass(frozen=True)
class CheckResult:
    baseline: str
    candidate: str
    benchmark: str
    data_hash: str
    n_tasks: int
    base_passed: int
    new_passed: int
    worse: tuple[str, ...]  # tasks pass -> fail
    better: tuple[str, ...]  # tasks fail -> pass
    status_changed: tuple[str, ...]
    program_changed: tuple[str, ...]  # both record a solution_id and it differs
    p_value: float
    margin: float
    alpha: float
    strict: bool

    @property
    def drop(self) -> float:
        return (self.base_passed - self.new_passed) / self.n_tasks if self.n_tasks else 0.0

    @property
    def regressed(self) -> bool:
        significant = self.drop > self.margin and self.p_value < self.alpha
        changed = self.status_changed or self.program_changed or self.worse or self.better
        return significant or (self.strict and bool(changed))


def _one_per_task(df: Any, what: str) -> Any:
    sources = df["source"].unique()
    if len(sources) != 1:
        raise ResultsError(f"{what}: give one run (got {len(sources)} sources)")
    counts = df.groupby("task_id").size()
    if (counts > 1).any():
        raise ResultsError(f"{what}: {counts.idxmax()} has {int(counts.max())} samples; the check needs one "
                           f"verdict per task")
    return df.set_index("task_id")


def compare(base_df: Any, new_df: Any, *, margin: float = 0.01, alpha: float = 0.05,
            strict: bool = False) -> CheckResult:
    """Pair ``new_df`` with ``base_df`` (tidy rows) task by task."""
    base, new = _one_per_task(base_df, "baseline"), _one_per_task(new_df, "run")
    for field in ("benchmark", "data_hash"):
        a, b = str(base[field].iloc[0]), str(new[field].iloc[0])
        if a != b:
            raise ResultsError(f"the baseline and the run differ in {field} ({a} vs {b}); they cannot be compared")
    missing = base.index.difference(new.index)
    extra = new.index.difference(base.index)
    if len(missing) or len(extra):
        which = f"{len(missing)} baseline task(s) missing from the run (e.g. {missing[0]})" if len(missing) else \
            f"{len(extra)} task(s) not in the baseline (e.g. {extra[0]})"
        raise ResultsError(f"the run and the baseline cover different tasks: {which}; rerun on the same slice")
    new = new.loc[base.index]
    b_pass, n_pass = base["passed"].astype(bool), new["passed"].astype(bool)
    worse = tuple(sorted(base.index[b_pass & ~n_pass]))
    better = tuple(sorted(base.index[~b_pass & n_pass]))
    changed = tuple(sorted(base.index[base["status"].astype(str) != new["status"].astype(str)]))
    both = base["solution_id"].notna() & new["solution_id"].notna()
    programs = tuple(sorted(base.index[both & (base["solution_id"].astype(str) != new["solution_id"].astype(str))]))
    return CheckResult(str(base["source"].iloc[0]), str(new["source"].iloc[0]), str(base["benchmark"].iloc[0]),
                       str(base["data_hash"].iloc[0]), len(base), int(b_pass.sum()), int(n_pass.sum()),
                       worse, better, changed, programs, mcnemar_exact(len(worse), len(better)), margin, alpha, strict)


def _few(tasks: tuple[str, ...], k: int = 10) -> str:
    return ", ".join(tasks[:k]) + (f" (+{len(tasks) - k} more)" if len(tasks) > k else "") if tasks else "none"


def markdown(r: CheckResult) -> str:
    """The verdict as Markdown (a CI job summary)."""
    mark = "FAIL: regression" if r.regressed else "PASS"
    n = r.n_tasks or 1
    lines = [
        f"### restrl check: {mark}",
        "",
        f"{r.benchmark} (data {r.data_hash[:12]}), {r.n_tasks} tasks paired: baseline `{r.baseline}` vs run "
        f"`{r.candidate}`.",
        "",
        "| | baseline | run | change |",
        "|---|---|---|---|",
        f"| pass@1 | {r.base_passed / n:.3f} ({r.base_passed}) | {r.new_passed / n:.3f} ({r.new_passed}) | "
        f"{(r.new_passed - r.base_passed) / n:+.3f} |",
        "",
        f"- pass -> fail: {len(r.worse)} ({_few(r.worse)})",
        f"- fail -> pass: {len(r.better)} ({_few(r.better)})",
        f"- status changed: {len(r.status_changed)} ({_few(r.status_changed)})",
        f"- program changed: {len(r.program_changed)} ({_few(r.program_changed)})",
        f"- McNemar exact test (one-sided, run worse): p = {r.p_value:.4g}; fails when the drop exceeds "
        f"{r.margin:.3f} with p < {r.alpha:g}" + ("; --strict: any changed verdict, status or program fails" if r.strict else ""),
    ]
    return "\n".join(lines) + "\n"
