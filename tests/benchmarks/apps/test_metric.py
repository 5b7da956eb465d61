"""The APPS metric on the sandboxed executor, in both ``apps_compat`` modes.

The expected verdicts live in tests/fixtures/apps/verdicts.json (how they were worked out:
tests/fixtures/apps/make_verdicts.py; checked against the real reference harness by the
slow parity test). Fast tests run a representative part with a 1 s per-test limit (every
slow fixture needs far more, every other test far less); the slow ones run everything
at the reference's settings.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
from typing import Any

import pytest

from restrl_eval.benchmarks import get_benchmark
from restrl_eval.benchmarks.apps.problem import AppsProblem
from restrl_eval.benchmarks.apps.metric import MetricConfig, build_jobs, judge
from restrl_eval.execution import Executor
from tests.benchmarks.apps import reference as ref
from tests.benchmarks.apps.helpers import fixture_rows, letters, solution, verdicts, write_hf_jsonl

VERDICTS = verdicts()
DIFFERENCES = sorted(k for k, v in VERDICTS.items() if "difference" in v)
# a few problems with every kind of sample, both styles, real and ours, plus the samples
# the comparison rules accept leniently (test_deliberate_difference covers the differences)
FAST_PROBLEMS = ("3040", "4655", "90004", "90013")
FAST = sorted({k for k in VERDICTS if k.split("/")[0] in FAST_PROBLEMS}
              | {k for k, v in VERDICTS.items() if "lenient" in v})


@pytest.fixture(scope="module")
def executor() -> Any:
    with Executor(workers=2, preload=("numpy",)) as ex:
        yield ex


@pytest.fixture(scope="module")
def apps_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_hf_jsonl(tmp_path_factory.mktemp("apps") / "test.jsonl", fixture_rows()))


def _bench(apps_file: str, compat: str, fast: bool) -> Any:
    opts = {"apps_timeout": 1.0, "apps_global_timeout": 15.0} if fast else {}
    return get_benchmark("apps-full", apps_path=apps_file, apps_compat=compat, **opts)


def _judge_all(bench: Any, keys: list[str], executor: Any) -> dict[str, str]:
    """Every sample's verdict letters; samples run concurrently (the executor is shared)."""
    def one(key: str) -> str:
        [v] = bench.check(bench.task(f"APPS/{key.split('/')[0]}"), [solution(key)], executor)
        return letters(v.details["tests"])

    with cf.ThreadPoolExecutor(4) as pool:
        return dict(zip(keys, pool.map(one, keys)))


@pytest.mark.parametrize("compat", ["fixed", "reference"])
def test_fixture_verdicts(apps_file: str, executor: Any, compat: str) -> None:
    got = _judge_all(_bench(apps_file, compat, fast=True), FAST, executor)
    want = {k: VERDICTS[k][compat] for k in FAST}
    assert got == want


@pytest.mark.slow
@pytest.mark.parametrize("compat", ["fixed", "reference"])
def test_fixture_verdicts_all(apps_file: str, executor: Any, compat: str) -> None:
    got = _judge_all(_bench(apps_file, compat, fast=False), sorted(VERDICTS), executor)
    assert got == {k: v[compat] for k, v in VERDICTS.items()}


def test_fixture_inventory() -> None:
    """>= 30 problems (10 real, 10 call-based, 10 stdin of ours), each with the five kinds."""
    rows = fixture_rows()
    ours = [r for r in rows if r["problem_id"] >= 90000]
    call = [r for r in ours if json.loads(r["input_output"]).get("fn_name")]
    assert len(rows) == 30 and len(call) == 10 and all("class Solution" in r["starter_code"] for r in call)
    for r in rows:
        for kind in ("correct", "wrong", "crash", "slow", "main_guard"):
            assert f"{r['problem_id']}/{kind}" in VERDICTS
    for key, v in VERDICTS.items():
        assert (v["fixed"] != v["reference"]) == ("difference" in v), key
        if key.endswith("/correct") and "difference" not in v:
            assert set(v["fixed"]) == {"p"}, key


# -- each deliberate difference, in both modes -------------------------------------------
@pytest.mark.parametrize("key, difference", [
    ("4245/main_guard", "D1"), ("90015/global_counter", "D1"),
    ("203/crash", "D3"), ("90007/exit_call", "D3"),
    ("90011/stdin_buffer", "D4"), ("90016/from_sys_stdin", "D4"),
    ("90001/state_leak", "D5"), ("90020/exit_call", "D6"), ("90009/module_function", "D7"),
    ("90005/correct", "D8"), ("90002/future_import", "D9"),
])
def test_deliberate_difference(apps_file: str, executor: Any, key: str, difference: str) -> None:
    assert VERDICTS[key]["difference"] == difference
    task_id = f"APPS/{key.split('/')[0]}"
    for compat in ("fixed", "reference"):
        bench = _bench(apps_file, compat, fast=True)
        [v] = bench.check(bench.task(task_id), [solution(key)], executor)
        assert letters(v.details["tests"]) == VERDICTS[key][compat], (key, compat)
        assert v.details["compat"] == compat


def _problem(n: int) -> AppsProblem:
    return AppsProblem(1, "echo", "", {"inputs": [f"{i}\n" for i in range(n)], "outputs": [f"{i}\n" for i in range(n)]})


def _run(problem: AppsProblem, program: str, cfg: MetricConfig, executor: Any):
    return judge(problem, executor.run_many(build_jobs(problem, program, cfg)), cfg)


def test_d2_global_timeout_does_not_zero_passed_tests(executor: Any) -> None:
    """D2: eight tests of 0.3 s each pass their 1 s limits, but together exceed a 1 s
    global limit (+1 s, as the reference's join): the reference loses all eight, restrl
    keeps them."""
    problem, program = _problem(8), "import time\ntime.sleep(0.3)\nprint(input())\n"
    fixed = _run(problem, program, MetricConfig("fixed", 1.0, 1.0), executor)
    assert fixed.outcomes == ("pass",) * 8 and fixed.reward == 1.0 and fixed.passed
    reference = _run(problem, program, MetricConfig("reference", 1.0, 1.0), executor)
    assert reference.outcomes == ("lost",) * 8 and reference.reward == 0.0
    assert reference.status == "timeout"


def test_per_test_time_limit(executor: Any) -> None:
    problem, program = _problem(2), "import time\nif input() == '1':\n    time.sleep(1.2)\nprint(1)\n"
    for compat in ("fixed", "reference"):
        short = _run(problem, program, MetricConfig(compat, 0.5, 15.0), executor)
        assert short.outcomes == ("fail", "timeout"), compat
    assert _run(problem, program, MetricConfig("fixed", 4.0), executor).outcomes == ("fail", "pass")


def test_always_equal_objects_never_pass(apps_file: str, executor: Any) -> None:
    """A returned object whose __eq__ says True to anything fails in both modes (the real
    reference would pass it: the one place restrl cannot reproduce it, by design)."""
    program = ("class Yes:\n    def __eq__(self, other):\n        return True\n"
               "class Solution:\n    def countBits(self, n):\n        return Yes()\n")
    for compat in ("fixed", "reference"):
        bench = _bench(apps_file, compat, fast=True)
        [v] = bench.check(bench.task("APPS/90004"), [program], executor)
        assert set(v.details["tests"]) == {"fail"} and not v.passed


def test_sys_exit_after_output_counts_and_threads_are_awaited(executor: Any) -> None:
    problem = _problem(3)
    exits = "import sys\nprint(input())\nsys.exit(0)\n"
    for compat in ("fixed", "reference"):
        assert _run(problem, exits, MetricConfig(compat, 2.0), executor).passed
    threaded = ("import threading, time\ndef main():\n    time.sleep(0.2)\n    print(input())\n"
                "threading.Thread(target=main).start()\n")
    assert _run(problem, threaded, MetricConfig("fixed", 2.0), executor).passed


def test_verdict_fields_and_order(apps_file: str, executor: Any) -> None:
    bench = _bench(apps_file, "fixed", fast=True)
    task = bench.task("APPS/4245")
    programs = [solution("4245/correct"), solution("4245/wrong"), "syntax error here"]
    good, wrong, broken = bench.check(task, programs, executor)
    assert (good.passed, good.status, good.reward, good.tests_passed, good.tests_total) == (True, "pass", 1.0, 14, 14)
    assert not wrong.passed and wrong.status == "fail" and wrong.tests_passed == VERDICTS["4245/wrong"]["fixed"].count("p")
    assert wrong.reward == pytest.approx(wrong.tests_passed / 14)
    assert broken.status == "error" and set(broken.details["tests"]) == {"compile_error"} and broken.reward == 0.0


def test_expected_outputs_never_enter_the_sandbox() -> None:
    problem = AppsProblem(1, "q", "", {"inputs": ["1\n"], "outputs": ["SECRET-ANSWER\n"]})
    call = AppsProblem(2, "q", "", {"fn_name": "f", "inputs": [[1]], "outputs": [["SECRET-ANSWER"]]})
    for compat in ("fixed", "reference"):
        for p in (problem, call):
            for job in build_jobs(p, "print(1)", MetricConfig(compat)):
                assert "SECRET-ANSWER" not in json.dumps(job.payload) + job.stdin + job.program


# -- the real reference harness (opt-in) -------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(ref.testing_util_path() is None, reason=f"set {ref.ENV} to hendrycks/apps eval/testing_util.py")
def test_real_reference_agrees_with_the_recorded_verdicts() -> None:
    rows = {r["problem_id"]: json.loads(r["input_output"]) for r in fixture_rows()}
    mismatches = {}
    for key, v in sorted(VERDICTS.items()):
        tests = rows[int(key.split("/")[0])]
        got = ref.run_reference(tests, solution(key))
        want = v["reference"]
        n = min(len(tests["inputs"]), len(tests["outputs"]))
        expect = (None if want == "lost" else [-2] if want == "c" * n
                  else [True if c == "p" else False if c == "f" else -1 for c in want])
        if got != expect:
            mismatches[key] = (got, want)
    assert not mismatches


def test_sandbox_failure_is_not_blamed_on_the_program() -> None:
    from restrl_eval.execution import ExecResult, Status

    problem = _problem(2)
    cfg = MetricConfig("fixed")
    report = judge(problem, [ExecResult(Status.PASS, finished=True, stdout="0\n"),
                             ExecResult(Status.SANDBOX_ERROR, detail="bwrap failed")], cfg)
    assert report.status == "sandbox_error" and "bwrap" in report.detail and not report.passed
