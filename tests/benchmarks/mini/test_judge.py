"""The mini metric in the real sandbox: references pass, wrong programs fail, partial reward."""
from __future__ import annotations

import random
from collections import defaultdict

import pytest

from restrl_eval.benchmarks import get_benchmark
from restrl_eval.execution import Executor


@pytest.fixture(scope="module")
def executor():
    with Executor(workers=2) as ex:
        yield ex


@pytest.fixture(scope="module")
def bench():
    return get_benchmark("mini-val")


def test_every_reference_style_of_every_family_passes(bench, executor) -> None:
    by_family = defaultdict(list)
    for t in bench.tasks():
        by_family[t.data["family"]].append(t)
    rng = random.Random(0)
    for family, tasks in sorted(by_family.items()):
        for t in rng.sample(tasks, min(4, len(tasks))):
            programs = [t.prompt + s for s in t.data["solutions"]]
            for v in bench.check(t, programs, executor):
                assert v.passed and v.status == "pass" and v.reward == 1.0, (family, t.task_id, v)
                assert v.tests_total == len(t.data["tests"])


def test_wrong_programs_fail_with_fractional_reward(bench, executor) -> None:
    t = next(t for t in bench.tasks() if t.data["family"] == "piecewise")
    last = t.data["solution"].rstrip("\n").split("\n")[-1]  # "return C" or "    return C"
    const = last.split("return ")[1]
    off = t.data["solution"].replace(f"return {const}", f"return {const} + 1000")
    cases = [t.prompt + "    return 0\n", t.prompt + "    while True:\n        pass\n",
             "def broken(:\n", t.prompt + off, t.prompt + "    return object()\n",
             t.prompt + "    raise SystemExit(0)\n"]
    got = bench.check(t, cases, executor)
    assert [v.passed for v in got] == [False] * len(cases)
    assert got[1].status == "timeout"
    assert got[2].status == "error" and "SyntaxError" in got[2].details["detail"]
    assert 0.0 < got[3].reward < 1.0  # the top branch is wrong, the others right
    assert got[3].reward == got[3].tests_passed / got[3].tests_total
    assert got[4].status == "fail" and got[4].reward == 0.0  # an object equals nothing
    assert got[5].status == "error"


def test_extract_code_completion_chat_and_runaway(bench) -> None:
    t = bench.tasks()[0]
    body = t.data["solution"]
    assert bench.extract_code(t, body) == t.prompt + body
    assert bench.extract_code(t, body + "\nprint('side effect')\ndef g():\n    pass\n") == t.prompt + body
    full = t.prompt + body
    assert bench.extract_code(t, f"Here:\n```python\n{full}```\nDone.") == full
    assert bench.prompt(t, "completion") == t.prompt
    assert t.prompt in bench.prompt(t, "chat")
