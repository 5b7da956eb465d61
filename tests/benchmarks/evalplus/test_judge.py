"""HumanEval+/MBPP+ verdicts through the real sandboxed executor: known evalplus 0.3.1
verdicts (checked against evalplus itself by the slow parity test) and the ways a
program might fake a pass, each of which must fail."""
from __future__ import annotations

import pytest

from restrl_eval.benchmarks import get_benchmark
from restrl_eval.execution import Executor


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # module scope: the function-scoped monkeypatch cannot serve
        mp.setenv("RESTRL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        he, mbpp = get_benchmark("humaneval+"), get_benchmark("mbpp+")
        with Executor(workers=2, preload=he.preload) as ex:
            yield he, mbpp, ex


def judge(bench, ex, task_id, bodies):
    task = bench.task(task_id)
    return bench.check(task, bodies, ex)


def canonical(bench, task_id):
    t = bench.task(task_id)
    return t.prompt + t.data["canonical_solution"]


def test_canonical_solutions_pass_and_wrong_ones_fail(env):
    he, mbpp, ex = env
    v = judge(he, ex, "HumanEval/0", [canonical(he, "HumanEval/0"),
                                      he.task("HumanEval/0").prompt + "    return False\n"])
    assert (v[0].passed, v[0].details["base"], v[0].details["plus"]) == (True, "pass", "pass")
    assert (v[1].passed, v[1].details["base"]) == (False, "fail")
    assert v[1].details["base_fail_tests"], "evalplus reports the failing input"
    v = judge(mbpp, ex, "Mbpp/2", [canonical(mbpp, "Mbpp/2"),
                                   "def similar_elements(a, b):\n    return list(set(a) & set(b))[::-1]\n"])
    assert [x.passed for x in v] == [True, True]  # Mbpp/2 compares as sets


def test_humaneval_32_fails_even_for_its_canonical_solution(env):
    he, _, ex = env
    v = judge(he, ex, "HumanEval/32", [canonical(he, "HumanEval/32")])[0]
    assert (v.details["base"], v.details["plus"]) == ("fail", "fail")


def test_base_pass_plus_fail_and_the_plus_column(env):
    he, _, ex = env
    # correct on small inputs, wrong from the 10th call of a phase on (HumanEval/0 has 7 base inputs)
    prog = canonical(he, "HumanEval/0") + (
        "\n_calls = [0]\n_ref = has_close_elements\n"
        "def has_close_elements(numbers, threshold):\n"
        "    _calls[0] += 1\n"
        "    return _ref(numbers, threshold) if _calls[0] < 10 else not _ref(numbers, threshold)\n")
    v = judge(he, ex, "HumanEval/0", [prog])[0]
    assert (v.details["base"], v.details["plus"], v.passed) == ("pass", "fail", False)
    assert v.details["columns"] == {"base": True, "plus": False}


@pytest.mark.parametrize("cheat,expect", [
    ("class A:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n"
     "def has_close_elements(n, t):\n    return A()\n", "fail"),
    ("exit(0)\n", "fail"),
    ("import sys\nsys.exit(0)\n", "fail"),
    ("print('pass')\nprint('ALL TESTS PASSED')\ndef has_close_elements(n, t):\n    return None\n", "fail"),
    ("import numpy\nnumpy.allclose = lambda *a, **k: True\n"
     "def has_close_elements(n, t):\n    return 0.5\n", "fail"),
    # breaking the report channel itself ends as a dead phase (timeout), never a pass
    ("import builtins\nbuiltins.isinstance = lambda *a: True\n"
     "def has_close_elements(n, t):\n    return 0.5\n", "timeout"),
    ("import json\njson.dumps = lambda *a, **k: '{\"kind\": \"done\"}'\n"
     "def has_close_elements(n, t):\n    return None\n", "timeout"),
    ("import os\nos._exit(0)\n", "timeout"),  # evalplus: a process that dies is a timeout
    ("def has_close_elements(n, t):\n    while True:\n        pass\n", "fail"),  # per-test limit
    ("def has_close_elements(n, t):\n    raise SystemExit(0)\n", "fail"),
])
def test_fake_passes_fail(env, cheat, expect):
    he, _, ex = env
    v = judge(he, ex, "HumanEval/0", [cheat])[0]
    assert not v.passed
    assert v.details["base"] == expect


def test_signal_tampering_cannot_outlast_the_budget(env):
    _, mbpp, ex = env
    # the per-test alarm is switched off inside the call; the phase budget (3 inputs: 5 s,
    # evalplus' process timeout) still ends it as evalplus' killed process: timeout
    prog = ("import signal, time\n"
            "def last(arr, x):\n    signal.setitimer(signal.ITIMER_REAL, 0)\n    time.sleep(6)\n"
            "    return len(arr) - arr[::-1].index(x) - 1\n")
    v = judge(mbpp, ex, "Mbpp/793", [prog])[0]
    assert v.details["base"] == "timeout" and not v.passed


def test_mbpp_tuple_inputs_and_float_tolerance(env):
    _, mbpp, ex = env
    # Mbpp/3 is_not_prime: bool output; wrong type (int 1/0) still equals True/False exactly
    prog = "def is_not_prime(n):\n    return int(n < 2 or any(n % i == 0 for i in range(2, int(n ** 0.5) + 1)))\n"
    v = judge(mbpp, ex, "Mbpp/3", [prog])[0]
    assert v.passed


def test_failures_carry_the_message_and_a_traceback_tail(env):
    """What failed and where, without running the program's own code to say it: a
    program-defined ``__str__`` that never returns still ends as a plain ``fail``."""
    he, _, ex = env
    t = he.task("HumanEval/0")
    nested = "def helper(x):\n    return x[10]\n" + t.prompt + "    return helper(numbers)\n"
    syntax = t.prompt + "    return (\n"
    evil = "class E(Exception):\n    def __str__(self):\n        while True:\n            pass\n" + t.prompt + \
        "    raise E('x')\n"
    v_nested, v_syntax, v_evil = judge(he, ex, "HumanEval/0", [nested, syntax, evil])
    detail = v_nested.details["detail"]
    assert detail.startswith("base: input 0: IndexError: list index out of range\nTraceback")
    assert ', in has_close_elements\n    return helper(numbers)\n  File "<string>", line 2, in helper\n' \
           "    return x[10]" in detail
    assert v_syntax.details["detail"].startswith("base: the program failed to load: SyntaxError: "
                                                 "'(' was never closed (line 12)")
    assert v_evil.details["base"] == "fail"
    assert v_evil.details["detail"].startswith("base: input 0: E\nTraceback")


SWALLOWER = ("from typing import List\n\n\n"
             "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
             "    while True:\n        try:\n            while True:\n                pass\n"
             "        except BaseException:\n            pass\n")


def test_a_swallowed_per_call_timer_is_enforced_from_outside(env):
    """The 9-line HumanEval/0 sample of issue 17: it catches evalplus' Timeout and loops
    on, which held a worker for every phase budget (154 s). The sandbox's watchdog kills it
    a grace after its per-call limit (1 s here) in each phase: evalplus' verdict, timeout,
    in a few seconds."""
    import time

    he, _, ex = env
    judge(he, ex, "HumanEval/0", [canonical(he, "HumanEval/0")])  # expected outputs computed outside the timing
    start = time.monotonic()
    v = judge(he, ex, "HumanEval/0", [SWALLOWER])[0]
    took = time.monotonic() - start
    assert (v.passed, v.status, v.details["base"], v.details["plus"]) == (False, "timeout", "timeout", "timeout")
    assert v.details["detail"].startswith("base: killed at input 0")
    assert took < 5.0, f"judged in {took:.1f} s"


def test_swallowing_after_some_inputs_keeps_the_failing_input(env):
    """Right on the first three calls, then a swallowed timer: evalplus' process is killed
    at input 3 (timeout); so is restrl's, by the watchdog, and it says which input."""
    he, _, ex = env
    prog = canonical(he, "HumanEval/0") + (
        "\n_calls = [0]\n_ref = has_close_elements\n"
        "def has_close_elements(numbers, threshold):\n"
        "    _calls[0] += 1\n"
        "    while _calls[0] > 3:\n        try:\n            while True:\n                pass\n"
        "        except BaseException:\n            pass\n"
        "    return _ref(numbers, threshold)\n")
    v = judge(he, ex, "HumanEval/0", [prog])[0]
    assert (v.status, v.details["base"]) == ("timeout", "timeout")
    assert v.details["detail"].startswith("base: killed at input 3")
    # evalplus writes input progress - 1 into *_fail_tests (its counter stops at 3)
    assert v.details["base_fail_tests"] == [list(he.dataset.problems["HumanEval/0"].base_input[2])]
