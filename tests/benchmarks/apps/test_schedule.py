"""APPS time per sample: the per-sample budget holds, the early stop counts the rest as
timeouts, both stay off by default, and the reference mode refuses them (it keeps its
global timeout). Real sandboxed executor, real jobs."""
from __future__ import annotations

import time
from typing import Any

import pytest
from click.testing import CliRunner

from restrl_eval.benchmarks import BenchmarkError, get_benchmark
from restrl_eval.benchmarks.apps.metric import MetricConfig, judge
from restrl_eval.benchmarks.apps.problem import AppsProblem
from restrl_eval.benchmarks.apps.schedule import run_fixed
from restrl_eval.execution import Executor
from tests.benchmarks.apps.helpers import fixture_rows, write_hf_jsonl

LOOP = "while True:\n    pass\n"
ECHO = "print(input())\n"


@pytest.fixture(scope="module")
def executor() -> Any:
    with Executor(workers=2) as ex:
        yield ex


def _problem(n: int) -> AppsProblem:
    return AppsProblem(1, "echo", "", {"inputs": [f"{i}\n" for i in range(n)], "outputs": [f"{i}\n" for i in range(n)]})


def test_the_sample_budget_holds_on_a_many_test_problem(executor: Any) -> None:
    """75 tests of ``while True: pass`` at 4 s each would take 150 s on two workers; with
    a 6 s budget the sample ends within the budget plus a small slack, every test timeout."""
    problem, cfg = _problem(75), MetricConfig("fixed", 4.0, sample_budget_s=6.0)
    start = time.monotonic()
    [results] = run_fixed(problem, [LOOP], cfg, executor)
    took = time.monotonic() - start
    report = judge(problem, results, cfg)
    assert report.outcomes == ("timeout",) * 75 and report.status == "timeout"
    assert took < 6.0 + 4.0, f"{took:.1f} s for a 6 s budget"
    assert sum(r.wall_s for r in results if r is not None) < 6.0 + 2.0


def test_a_budget_does_not_change_samples_that_fit_in_it(executor: Any) -> None:
    problem, cfg = _problem(6), MetricConfig("fixed", 4.0, sample_budget_s=20.0)
    [fast] = run_fixed(problem, [ECHO], cfg, executor)
    assert judge(problem, fast, cfg).outcomes == ("pass",) * 6


def test_early_stop_counts_the_rest_as_timeouts(executor: Any) -> None:
    """Tests 0-1 pass, 2 and later loop: with early_stop=2 tests 2-3 time out (run), the
    rest count as timeouts without running; the reward is 2/10 either way."""
    problem = _problem(10)
    prog = "x = input()\nif int(x) >= 2:\n    while True:\n        pass\nprint(x)\n"
    cfg = MetricConfig("fixed", 0.5, early_stop=2)
    [results] = run_fixed(problem, [prog], cfg, executor)
    report = judge(problem, results, cfg)
    assert report.outcomes == ("pass", "pass") + ("timeout",) * 8
    assert sum(r is None for r in results) >= 4  # most of the tail never ran
    full = MetricConfig("fixed", 0.5)
    assert judge(problem, run_fixed(problem, [prog], full, executor)[0], full).reward == report.reward


def test_defaults_run_every_test_and_reference_refuses_a_budget(tmp_path) -> None:
    assert not MetricConfig().budgeted
    apps = str(write_hf_jsonl(tmp_path / "test.jsonl", fixture_rows()))
    bench = get_benchmark("apps-full", apps_path=apps, sample_budget=30, timeout=2)
    assert (bench.metric.sample_budget_s, bench.metric.timeout_s) == (30.0, 2.0)
    assert get_benchmark("apps-full", apps_path=apps, apps_sample_budget=5).metric.sample_budget_s == 5.0
    with pytest.raises(BenchmarkError, match="global timeout"):
        get_benchmark("apps-full", apps_path=apps, apps_compat="reference", apps_sample_budget=10)
    with pytest.raises(BenchmarkError, match="disagree"):
        get_benchmark("apps-full", apps_path=apps, timeout=2, apps_timeout=3)


def test_cli_flags_reach_the_benchmark(tmp_path) -> None:
    """--apps-timeout/--apps-sample-budget are aliases of -B keys on evaluate (bad values: exit 2)."""
    from restrl_eval.cli.main import cli

    apps = str(write_hf_jsonl(tmp_path / "test.jsonl", fixture_rows()))
    samples = tmp_path / "s.jsonl"
    samples.write_text("")
    r = CliRunner().invoke(cli, ["evaluate", "--bench", "apps-full", "--samples", str(samples),
                                 "--apps-path", apps, "--apps-sample-budget", "0"])
    assert r.exit_code == 2 and "--apps-sample-budget" in r.output
    r = CliRunner().invoke(cli, ["evaluate", "--bench", "humaneval+", "--samples", str(samples),
                                 "--apps-timeout", "3"])
    assert r.exit_code == 2 and "--apps-timeout" in r.output
