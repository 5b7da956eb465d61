"""Benchmark ``tasks``: a JSONL task file (``restrl_eval.benchmarks.tasks``) read through the
registry, its content hash, and how a model's answer becomes a program. Judging in the sandbox
is covered by the GRPO reward tests (``tests/train/grpo/test_reward.py``), and collection from a
task file by ``tests/train/data/test_training_splits.py``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from restrl_eval.benchmarks import BenchmarkError, Task, get_benchmark
from restrl_eval.benchmarks.tasks import TaskFileBenchmark

TASKS = [
    {"task_id": "T/add", "prompt": "Write a Python function add(a, b) that returns a + b.",
     "tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"], "entry_point": "add"},
    {"task_id": "T/neg", "prompt": "Write a Python function neg(x) that returns -x.",
     "tests": "assert neg(1) == -1\nassert neg(0) == 0"},
]


def _write_tasks(path: Path, rows=TASKS) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_task_file_is_a_benchmark_with_a_content_hash(tmp_path):
    a = get_benchmark("tasks", path=str(_write_tasks(tmp_path / "a.jsonl")))
    assert [t.task_id for t in a.tasks()] == ["T/add", "T/neg"]
    assert a.problem_text(a.tasks()[0]) == TASKS[0]["prompt"]
    spaced = tmp_path / "b.jsonl"
    spaced.write_text("\n".join(json.dumps(r, indent=None, separators=(", ", ": ")) for r in TASKS) + "\n\n")
    assert get_benchmark("tasks", path=str(spaced)).data_hash() == a.data_hash()  # content, not bytes
    changed = _write_tasks(tmp_path / "c.jsonl", [TASKS[0], {**TASKS[1], "tests": ["assert neg(2) == -2"]}])
    assert get_benchmark("tasks", path=str(changed)).data_hash() != a.data_hash()
    with pytest.raises(BenchmarkError, match="needs a task file"):
        get_benchmark("tasks")


def test_a_completion_prompt_is_continued_and_a_whole_program_kept():
    bench = TaskFileBenchmark()
    sig = Task("T/f", 'def f(x):\n    """Twice x."""\n', "f", "", {"tests": ["assert f(2) == 4"]})
    assert bench.extract_code(sig, "    return 2 * x\n") == sig.prompt + "    return 2 * x\n"
    whole = "Sure:\n```python\ndef f(x):\n    return x + x\n```\nDone."
    assert bench.extract_code(sig, whole) == "def f(x):\n    return x + x\n"
    words = Task("T/g", "Write g(x) returning x.", "g", "", {"tests": ["assert g(1) == 1"]})
    assert bench.extract_code(words, "def g(x):\n    return x\n```") == "def g(x):\n    return x\n"


def test_the_string_form_of_tests_shares_its_setup_and_the_factory_takes_the_limits(tmp_path):
    row = {"task_id": "T/r", "prompt": "Write r(x) rounding x up.", "tests": "import math\nassert r(1.2) == 2\n"
           "assert r(2) == math.ceil(2)"}
    bench = get_benchmark("tasks", path=str(_write_tasks(tmp_path / "t.jsonl", [row])), test_s=1, timeout_s=5)
    [task] = bench.tasks()
    assert task.data["tests"] == ["import math\nassert r(1.2) == 2", "import math\nassert r(2) == math.ceil(2)"]
    assert (bench.test_s, bench.timeout_s, bench.load_s) == (1.0, 5.0, 4.0)
