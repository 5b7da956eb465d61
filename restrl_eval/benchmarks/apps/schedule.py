"""Fixed-mode APPS judging under a per-sample time budget and an early stop.

Why: one ``while True: pass`` sample on a 75-test problem costs 75 x 4 s of worker time
(about 150 s on two workers) when every test runs to its limit; a sweep or a GRPO reward
batch is then dominated by such samples. With ``sample_budget_s`` the tests of a sample
run in test order, in waves as wide as the workers allow, each test's limit cut to its
share of what is left of the budget, so a sample's tests together take at most the budget
(plus the per-job overhead); tests not run when it is spent count as ``timeout``. With
``early_stop`` a sample stops being scheduled after that many timeouts (``metric.judge``
then counts every later test as ``timeout``, whatever ran in the same wave). Without
either (the metric's defaults) all tests of all samples go to the executor at once.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from restrl_eval.benchmarks.apps.metric import MetricConfig, build_jobs, fixed_job, judge_fixed_test
from restrl_eval.benchmarks.apps.problem import AppsProblem
from restrl_eval.execution.types import ExecResult

__all__ = ["MIN_TEST_S", "run_fixed"]

MIN_TEST_S = 0.05  # below this share of the budget a test is not started


@dataclass
class _Sample:
    """One program's progress through its tests."""

    program: str
    tag: str
    results: list[ExecResult | None]
    next: int = 0
    spent: float = 0.0
    timeouts: int = 0
    stopped: bool = False

    def open(self, cfg: MetricConfig) -> bool:
        if self.stopped or self.next >= len(self.results):
            return False
        if cfg.early_stop is not None and self.timeouts >= cfg.early_stop:
            return False
        return cfg.sample_budget_s is None or cfg.sample_budget_s - self.spent >= MIN_TEST_S


def _plan_wave(problem: AppsProblem, s: _Sample, cfg: MetricConfig, width: int) -> list[Any]:
    """The next ``width`` tests of ``s`` (fewer near the end), limits cut to the budget."""
    k = min(width, len(s.results) - s.next)
    limit = cfg.timeout_s
    if cfg.sample_budget_s is not None:
        runs = 2 if problem.fn_name else 1  # a call-based job loads, then calls
        limit = min(limit, (cfg.sample_budget_s - s.spent) / (k * runs))
        if limit < MIN_TEST_S:
            s.stopped = True
            return []
    first, s.next = s.next, s.next + k
    return [fixed_job(problem, s.program, cfg, i, timeout_s=limit, tag=s.tag) for i in range(first, first + k)]


def run_fixed(problem: AppsProblem, programs: Sequence[str], cfg: MetricConfig, executor: Any,
              tag: str = "") -> list[list[ExecResult | None]]:
    """Per program, one result per test (``None``: not run). ``executor``: anything with
    ``run_many`` (its ``n_workers``, when it has one, sets the wave width)."""
    n = problem.n_tests
    if not cfg.budgeted:
        plan = [build_jobs(problem, prog, cfg, tag=f"{tag}#{k}") for k, prog in enumerate(programs)]
        flat = executor.run_many([job for jobs in plan for job in jobs])
        return [list(flat[k * n:(k + 1) * n]) for k in range(len(programs))]
    samples = [_Sample(prog, f"{tag}#{k}", [None] * n) for k, prog in enumerate(programs)]
    workers = max(1, int(getattr(executor, "n_workers", 2) or 2))
    while True:
        active = [s for s in samples if s.open(cfg)]
        if not active:
            break
        width = max(1, workers // len(active))
        wave = [(s, job) for s in active for job in _plan_wave(problem, s, cfg, width)]
        if not wave:
            continue
        for (s, job), res in zip(wave, executor.run_many([job for _, job in wave])):
            i = int(job.payload["index"])
            s.results[i] = res
            s.spent += res.wall_s
            s.timeouts += judge_fixed_test(problem, i, res)[0] == "timeout"
    return [s.results for s in samples]
