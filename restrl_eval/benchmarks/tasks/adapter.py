"""A task file as a benchmark: JSONL rows ``{task_id, prompt, tests, entry_point}``.

Why: training needs problems that are not the evaluation benchmarks (training on
HumanEval+ and then reporting HumanEval+ would be a leak), and most training sets are
"a problem statement and some asserts". ``tests`` is a list of Python snippets (or one
string: each top-level ``assert`` is a test, other statements are shared setup); the
reward is the fraction of tests that pass, each under its own time limit, run in the
sandbox after the program. A program that does not compile passes nothing.

Registered as benchmark ``tasks`` (``--bench tasks -B path=FILE``, or ``--tasks FILE``
on the training commands), so collection, the GRPO reward and ``restrl-eval`` judging
treat a task file like any registered benchmark. ``data_hash`` hashes the tasks' content.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from restrl_eval.benchmarks.base import Benchmark, BenchmarkError, Task, Verdict
from restrl_eval.execution import Job, Limits, Profile
from restrl_eval.jsonl import iter_jsonl

__all__ = ["TaskFileBenchmark", "extract_fenced", "load_task_file", "split_tests", "tasks_file"]

_DRIVER = r'''
import builtins as _b
_p = restrl.payload
_ns = {"__name__": "__main__", "__builtins__": _b}
try:
    with restrl.time_limit(_p["load_s"]):
        restrl.run_program(_ns)
except BaseException as _e:
    restrl.emit(kind="load", ok=False, n=_p["nonce"], x=type(_e).__name__)
else:
    for _i, _t in enumerate(_p["tests"]):
        try:
            with restrl.time_limit(_p["test_s"]):
                exec(compile(_t, "<test %d>" % _i, "exec"), _ns)
            _s = "pass"
        except TimeoutError:
            _s = "timeout"
        except BaseException:
            _s = "fail"
        restrl.emit(kind="t", i=_i, s=_s, n=_p["nonce"])
'''


def split_tests(tests: Any) -> list[str]:
    """Normalise ``tests`` to a list of snippets; a string's setup lines join every test."""
    if isinstance(tests, list) and all(isinstance(t, str) for t in tests) and tests:
        return list(tests)
    if isinstance(tests, str) and tests.strip():
        tree = ast.parse(tests)
        setup = [ast.unparse(n) for n in tree.body if not isinstance(n, ast.Assert)]
        asserts = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Assert)]
        head = "\n".join(setup)
        return [f"{head}\n{a}" if head else a for a in asserts] or [tests]
    raise ValueError("tests must be a non-empty list of strings or a non-empty string of asserts")


def extract_fenced(text: str) -> str:
    """The code of a model answer: the first fenced block when there is one, else the text
    up to a closing fence (the answer was prefilled with an opening fence)."""
    if "```python\n" in text:
        text = text.split("```python\n", 1)[1]
    return text.split("```", 1)[0]


def load_task_file(path: str | Path) -> list[Task]:
    """Read a tasks JSONL; a bad row raises ``BenchmarkError`` naming file, line and field."""
    p = Path(path)
    tasks: list[Task] = []
    seen: set[str] = set()
    for n, row in iter_jsonl(p, BenchmarkError, invalid="not valid JSON"):
        for key in ("task_id", "prompt", "tests"):
            if key not in row:
                raise BenchmarkError(f"{p}:{n}: missing field {key!r}")
        if not isinstance(row["task_id"], str) or row["task_id"] in seen:
            raise BenchmarkError(f"{p}:{n}: field 'task_id' must be a unique string")
        try:
            tests = split_tests(row["tests"])
        except (ValueError, SyntaxError) as exc:
            raise BenchmarkError(f"{p}:{n}: field 'tests': {exc}") from None
        seen.add(row["task_id"])
        tasks.append(Task(row["task_id"], str(row["prompt"]), row.get("entry_point"), str(row["prompt"]),
                          {"tests": tests, "init_state": str(row.get("init_state", ""))}))
    if not tasks:
        raise BenchmarkError(f"{p}: no tasks")
    return tasks


class TaskFileBenchmark(Benchmark):
    """The ``tasks`` domain. Built from a file or from ``Task`` rows (the reward builds one
    per batch from the ``tests`` column, so no file is needed at training time)."""

    name = "tasks"
    option_names = ("path", "load_s", "test_s", "timeout_s")  # -B KEY=VALUE

    def __init__(self, tasks: Sequence[Task] = (), path: str | Path | None = None,
                 load_s: float = 4.0, test_s: float = 2.0, timeout_s: float = 10.0) -> None:
        self._tasks = list(tasks) if path is None else load_task_file(path)
        self.path = None if path is None else str(path)
        self.load_s, self.test_s, self.timeout_s = float(load_s), float(test_s), float(timeout_s)

    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def data_hash(self) -> str:
        """The tasks' content (ids, prompts, tests), not the file's bytes: the same tasks
        hash alike however the file is laid out."""
        rows = [[t.task_id, t.prompt, t.entry_point, list(t.data.get("tests", ())), t.data.get("init_state", "")]
                for t in self._tasks]
        return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()

    def prompt(self, task: Task, style: str = "completion") -> str:
        return task.prompt

    def extract_code(self, task: Task, text: str) -> str:
        """The answer's code (``extract_fenced``); when the prompt itself opens the
        ``entry_point`` function (a completion prompt: signature and docstring) and the
        answer does not define it, the answer is its body and the program is prompt + body."""
        code = extract_fenced(text)
        if task.entry_point:
            opens = re.compile(rf"^def\s+{re.escape(task.entry_point)}\s*\(", re.M)
            if opens.search(task.prompt) and not opens.search(code):
                return task.prompt + code
        return code

    def _job(self, tests: list[str], program: str, nonce: str, tag: str) -> Job:
        payload = {"tests": tests, "nonce": nonce, "load_s": self.load_s, "test_s": self.test_s}
        return Job(program, driver=_DRIVER, payload=payload, tag=tag, profile=Profile.STRICT,
                   limits=Limits(timeout_s=self.timeout_s, memory_mb=1024))

    def check(self, task: Task, programs: Sequence[str], executor: Any) -> list[Verdict]:
        tests = split_tests(task.data["tests"])
        nonces = [secrets.token_hex(8) for _ in programs]
        jobs = [self._job(tests, prog, nonces[k], f"{task.task_id}#{k}") for k, prog in enumerate(programs)]
        return [self._verdict(task, tests, res, nonce) for res, nonce in zip(executor.run_many(jobs), nonces)]

    @staticmethod
    def _verdict(task: Task, tests: list[str], res: Any, nonce: str) -> Verdict:
        """Count only this job's messages (its nonce), one per test index: a program that
        prints or forges stray lines, or dies half-way, cannot raise its own score."""
        status: dict[int, str] = {}
        for m in res.messages:
            if m.get("n") == nonce and m.get("kind") == "t" and isinstance(m.get("i"), int):
                status.setdefault(m["i"], str(m.get("s")))
        passed = sum(1 for i in range(len(tests)) if status.get(i) == "pass")
        total = len(tests)
        overall = "pass" if passed == total else (res.status.value if passed == 0 and not status else "fail")
        return Verdict(task.task_id, passed == total, overall, reward=passed / total, tests_passed=passed,
                       tests_total=total, details={"exec_status": res.status.value, "detail": res.detail})


def tasks_file(path: str | Path | None = None, load_s: float = 4.0, test_s: float = 2.0, timeout_s: float = 10.0,
               **unused: Any) -> TaskFileBenchmark:
    """A task file of JSONL {task_id, prompt, tests} rows (-B path=FILE; --tasks FILE when collecting)."""
    if path is None:
        raise BenchmarkError("benchmark 'tasks' needs a task file: --tasks FILE (or -B path=FILE)")
    return TaskFileBenchmark(path=Path(path).expanduser(), load_s=load_s, test_s=test_s, timeout_s=timeout_s)
