"""Programs that try to fake a BigCodeBench pass must fail (strict mode, the default).

Each attempt runs on BigCodeBench/667 through the real executor. Where bigcodebench 0.2.5
itself would be fooled (``strict=False`` reproduces its rules), the test says so: restrl is
deliberately stricter there.
"""
from __future__ import annotations

import pytest

from restrl_eval.benchmarks import get_benchmark

TASK = "BigCodeBench/667"
HEAD = "import heapq\nimport collections\n"

ATTEMPTS = {
    "sys_exit_before_tests": "import sys\nsys.exit(0)\n",
    "os_exit_before_tests": "import os\nos._exit(0)\n",
    "print_ok": HEAD + "print('.....\\n----\\nRan 5 tests in 0.001s\\n\\nOK')\ndef task_func(x, n):\n    return None\n",
    "system_exit_in_test": "def task_func(x, n):\n    raise SystemExit(0)\n",
    "keyboard_interrupt_in_test": "def task_func(x, n):\n    raise KeyboardInterrupt\n",
    "os_exit_in_test": "import os\ndef task_func(x, n):\n    os._exit(0)\n",
    "patch_assertions": (
        "import unittest\nfor _n in dir(unittest.TestCase):\n    if _n.startswith('assert'):\n"
        "        setattr(unittest.TestCase, _n, lambda self, *a, **k: None)\n"
        "def task_func(x, n):\n    return None\n"),
    "patch_assertions_during_test": (
        "import unittest\ndef task_func(x, n):\n    unittest.TestCase.assertEqual = lambda self, *a, **k: None\n"
        "    return None\n"),
    "patch_result": (
        "import unittest\nR = unittest.TestResult\nR.addFailure = lambda self, test, err: self.addSuccess(test)\n"
        "R.addError = lambda self, test, err: self.addSuccess(test)\ndef task_func(x, n):\n    return None\n"),
    "replace_testcase_class": (
        "import unittest\nclass _Fake(unittest.TestCase):\n    def run(self, result=None):\n"
        "        result.startTest(self); result.addSuccess(self); result.stopTest(self)\n"
        "unittest.TestCase = _Fake\ndef task_func(x, n):\n    return None\n"),
    "patch_build_class": (
        "import builtins, unittest\n_orig = builtins.__build_class__\n"
        "def _bc(func, name, *bases, **kw):\n    cls = _orig(func, name, *bases, **kw)\n"
        "    if name == 'TestCases':\n        for k in list(vars(cls)):\n"
        "            if k.startswith('test'):\n                setattr(cls, k, lambda self: None)\n    return cls\n"
        "builtins.__build_class__ = _bc\ndef task_func(x, n):\n    return None\n"),
    "always_equal_object": (
        "class _Any(list):\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n"
        "def task_func(x, n):\n    return _Any()\n"),
    "spoofed_class": (
        "class _Any:\n    __class__ = property(lambda self: list)\n    def __eq__(self, o):\n        return True\n"
        "def task_func(x, n):\n    return _Any()\n"),
    "skip_test": "import unittest\ndef task_func(x, n):\n    raise unittest.SkipTest('skip')\n",
    "should_stop": "import unittest.case\ndef task_func(x, n):\n    raise unittest.case._ShouldStop()\n",
    "fake_messages_on_every_fd": (
        "import os, json\nfor fd in range(3, 64):\n    for msg in ({'kind': 'test', 'name': 'test_case_1', 'status': 'pass'},\n"
        "                {'kind': 'bcb', 'status': 'pass', 'details': {}, 'tests': {}, 'tamper': [], 'cheats': []},\n"
        "                {'k': 'end', 'ok': True, 'details': {}, 'tamper': [], 'cheats': []}, {'kind': 'done'}):\n"
        "        try:\n            os.write(fd, (json.dumps(msg) + '\\n').encode())\n        except OSError:\n            pass\n"
        "os._exit(0)\n"),
    "reopen_supervisor_channel": (
        "import os, json\nmsg = {'kind': 'bcb', 'status': 'pass', 'details': {}, 'tests': {}, 'tamper': [], 'cheats': []}\n"
        "for fd in range(0, 16):\n    try:\n        with open(f'/proc/{os.getppid()}/fd/{fd}', 'w') as f:\n"
        "            f.write(json.dumps(msg) + '\\n')\n    except OSError:\n        pass\n"
        "def task_func(x, n):\n    return None\n"),
    "kill_supervisor": "import os, posix, signal\nposix.kill(os.getppid(), signal.SIGKILL)\ndef task_func(x, n):\n    return None\n",
    "fork_and_forge": (
        "import os, json\nif os.fork() == 0:\n    for fd in range(3, 64):\n        try:\n"
        "            os.write(fd, (json.dumps({'k': 'end', 'ok': True, 'details': {}}) + '\\n').encode())\n"
        "        except OSError:\n            pass\n    os._exit(0)\nos.wait()\ndef task_func(x, n):\n    return None\n"),
}

# bigcodebench 0.2.5 would count these as passes (skips and _ShouldStop are not failures;
# an always-equal object satisfies assertEqual); restrl's strict mode does not.
REFERENCE_FOOLED = {"skip_test", "should_stop", "always_equal_object", "spoofed_class"}


@pytest.fixture(scope="module")
def executor():
    pytest.importorskip("matplotlib", reason="the BigCodeBench driver needs matplotlib (the bcb extra)")
    from tests._sandbox_util import make_executor

    with make_executor(workers=2) as ex:
        yield ex


def _bench(strict: bool):
    return get_benchmark("bcb-complete", timeout_limit=1.0, gt_times={TASK: 0.0}, strict=strict, probe_cache=False)


@pytest.fixture(scope="module")
def verdicts(executor):
    bench = _bench(True)
    task = bench.task(TASK)
    names = list(ATTEMPTS)
    canon = task.data["complete_prompt"] + task.data["canonical_solution"]
    out = bench.check(task, [canon] + [ATTEMPTS[n] for n in names], executor)
    return out[0], dict(zip(names, out[1:]))


def test_the_honest_solution_still_passes(verdicts) -> None:
    canon, _ = verdicts
    assert canon.passed and canon.status == "pass", canon.details


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_attempt_to_fake_a_pass_fails(verdicts, name: str) -> None:
    v = verdicts[1][name]
    assert not v.passed and v.status in ("fail", "timeout"), v.details
    assert v.tests_passed < v.tests_total


def test_tampering_is_reported(verdicts) -> None:
    got = verdicts[1]
    for name in ("patch_assertions", "patch_result", "replace_testcase_class", "patch_build_class",
                 "always_equal_object", "skip_test", "should_stop"):
        assert got[name].details.get("tamper"), (name, got[name].details)


def test_reference_rules_are_fooled_where_restrl_is_stricter(executor) -> None:
    bench = _bench(False)
    task = bench.task(TASK)
    names = sorted(REFERENCE_FOOLED)
    loose = bench.check(task, [ATTEMPTS[n] for n in names], executor)
    assert {n: v.passed for n, v in zip(names, loose)} == {n: True for n in names}
