"""The execution reward through the real sandbox: values, one executor call per batch,
TRL's calling convention, and hostile completions."""
from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from restrl_eval.execution import Executor
from restrl_train.grpo.reward import Item, Judge, Shaping, exec_score, make_reward_func, program_text

ADD_TESTS = ["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0", "assert add(2, 5) == 7"]


class CountingExecutor:
    """The real executor, counting ``run_many`` calls and jobs."""

    def __init__(self, ex: Executor) -> None:
        self.ex, self.calls, self.jobs = ex, 0, 0
        self.lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.ex, name)

    def run_many(self, jobs, progress=None):
        jobs = list(jobs)
        with self.lock:
            self.calls += 1
            self.jobs += len(jobs)
        return self.ex.run_many(jobs, progress)

    def run(self, job):
        return self.run_many([job])[0]


@pytest.fixture(scope="module")
def executor():
    with Executor(workers=2) as ex:
        yield ex


@pytest.fixture()
def judge(executor):
    return Judge(CountingExecutor(executor))


def test_exec_score_values(judge):
    assert exec_score("def add(a, b):\n    return a + b\n", ADD_TESTS, judge=judge) == 1.0
    assert exec_score("def add(a, b):\n    return a - b\n", ADD_TESTS, judge=judge) == 0.25  # add(0, 0) only
    assert exec_score("def add(a, b) return a + b", ADD_TESTS, judge=judge) == 0.0  # does not compile
    assert exec_score("def add(a, b):\n    return a + b\n", json.dumps(ADD_TESTS), judge=judge) == 1.0


def test_exec_score_on_a_registered_benchmark(judge):
    """domain = a benchmark name: its own checker decides (evalplus: base + plus inputs)."""
    from restrl_eval.benchmarks import get_benchmark

    task = get_benchmark("humaneval+").task("HumanEval/0")
    good = task.prompt + task.data["canonical_solution"]
    assert exec_score(good, "HumanEval/0", "humaneval+", judge=judge) == 1.0
    wrong = task.prompt + "    return False\n"
    assert 0.0 < exec_score(wrong, "HumanEval/0", "humaneval+", judge=judge) < 1.0


def test_completion_is_cut_at_the_first_stop_string():
    text, stop, tail = program_text("def add(a, b):\n", "    return a + b\n```\nprint('x')```", ("```",))
    assert text == "def add(a, b):\n    return a + b\n" and stop == "```" and tail == "\nprint('x')```"


def _trl_call(fn, prompts, completions, **columns):
    return asyncio.run(fn(prompts=prompts, completions=completions, completion_ids=[[0]] * len(completions),
                          trainer_state=None, log_extra=None, log_metric=None, **columns))


def test_batch_of_256_completions_is_judged_in_one_executor_call(judge):
    tasks = {
        "add": (ADD_TESTS, "def add(a, b):\n", ["    return a + b\n```", "    return a - b\n```", "    return (\n```"]),
        "neg": (["assert neg(1) == -1", "assert neg(0) == 0"], "", ["def neg(x):\n    return -x\n", "def neg(x): x"]),
    }
    expected = {("add", 0): 1.0, ("add", 1): 0.25, ("add", 2): 0.0, ("neg", 0): 1.0, ("neg", 1): 0.0}
    cols: dict[str, list] = {"task_id": [], "partial_state": [], "tests": [], "bench": []}
    completions, want = [], []
    for i in range(256):
        name = ("add", "neg")[i % 2]
        tests, state, comps = tasks[name]
        k = (i // 2) % len(comps)
        cols["task_id"].append(f"toy/{name}")
        cols["partial_state"].append(state)
        cols["tests"].append(json.dumps(tests))
        cols["bench"].append("tasks")
        completions.append(comps[k])
        want.append(expected[(name, k)])
    fn = make_reward_func(judge)
    assert asyncio.iscoroutinefunction(fn)
    got = _trl_call(fn, ["p"] * 256, completions, **cols)
    assert got == want
    assert judge.executor.calls == 1 and judge.executor.jobs == 256


def test_shaping_is_off_by_default_and_gated_on_execution(judge):
    cols = dict(task_id=["a"] * 3, partial_state=["def add(a, b):\n"] * 3, tests=[json.dumps(ADD_TESTS)] * 3,
                bench=["tasks"] * 3)
    comps = ["    return a + b\n```", "    return a + b\n", "    return 0\n```trailing"]
    plain = _trl_call(make_reward_func(judge), ["p"] * 3, comps, **cols)
    assert plain == [1.0, 1.0, 0.5]  # return 0 passes add(0, 0) and add(-1, 1)
    shaped = _trl_call(make_reward_func(judge, shaping=Shaping(1e-3, 1e-6)), ["p"] * 3, comps, **cols)
    assert shaped == pytest.approx([1.001, 1.0, 0.5 + 1e-3 - 8e-6])
    fail = ["    return (\n```"]
    assert _trl_call(make_reward_func(judge, shaping=Shaping(1e-3, 1e-6)), ["p"], fail,
                     **{k: v[:1] for k, v in cols.items()}) == [0.0]  # no format credit without execution credit


HOSTILE = {
    "fork_bomb": "import os\nwhile True:\n    os.fork()\n",
    "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(1, signal.SIGKILL)\n",
    "kill_group": "import os, signal\nos.killpg(0, signal.SIGKILL)\n",
    "infinite_loop": "while True:\n    pass\n",
    "sleep_forever": "import time\ntime.sleep(10**6)\n",
    "memory_hog": "x = ' ' * (10**11)\n",
    "exit_early": "import sys\nsys.exit(0)\n",
    "forged_pass": ("import os, json\nfor i in range(4):\n"
                    "    os.write(3, (json.dumps({'kind': 't', 'i': i, 's': 'pass', 'n': 'x'}) + '\\n').encode())\n"
                    "def add(a, b):\n    return None\n"),
    "recursion": "def f():\n    return f()\nf()\n",
}


def test_hostile_completions_score_zero_and_never_stall(judge):
    good = "def add(a, b):\n    return a + b\n"
    items = [Item("tasks", "add", prog, ADD_TESTS) for prog in HOSTILE.values()] + [Item("tasks", "add", good, ADD_TESTS)]
    t0 = time.monotonic()
    rewards = judge.rewards(items)
    elapsed = time.monotonic() - t0
    assert dict(zip(HOSTILE, rewards)) == {name: 0.0 for name in HOSTILE}
    assert rewards[-1] == 1.0  # a hostile neighbour does not spoil the batch
    assert elapsed < 120  # bounded by the per-job wall limits, even on a loaded 2-core machine
    assert judge.rewards([Item("tasks", "add", good, ADD_TESTS)]) == [1.0]  # the executor still works


def test_a_harness_failure_scores_zero_and_is_counted(judge):
    rewards = judge.rewards([Item("humaneval+", "HumanEval/99999", "x = 1\n"),
                             Item("tasks", "add", "def add(a, b):\n    return a + b\n", ADD_TESTS)])
    assert rewards == [0.0, 1.0] and judge.errors == 1
