"""BigCodeBench (complete / instruct, and the hard subset from a given id list).

Verdicts follow bigcodebench 0.2.5; results are unforgeable by default (``strict=True``). The
semantics, the limits of that guarantee and the handling of missing libraries: README.md in
this folder.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from restrl_eval.benchmarks.base import Benchmark, BenchmarkError, Task, Verdict
from restrl_eval.benchmarks.bigcodebench import requirements as req
from restrl_eval.benchmarks.bigcodebench.driver import PARTS
from restrl_eval.benchmarks.bigcodebench.judge import decide, expected_tests, skipped_verdict
from restrl_eval.benchmarks.bigcodebench.sanitize import sanitize
from restrl_eval.benchmarks.data import RELEASES, load_rows
from restrl_eval.benchmarks.sandbox import driver_source

if TYPE_CHECKING:
    from restrl_eval.execution import Executor, Job

log = logging.getLogger(__name__)

# bigcodebench 0.2.5 defaults (evaluate.py, eval/utils.py, generate.py)
TIMEOUT_LIMIT = 240.0
MIN_TIME_LIMIT = 1.0
MAX_AS_LIMIT = 30 * 1024
MAX_DATA_LIMIT = 30 * 1024
MAX_STACK_LIMIT = 10
INSTRUCTION_PREFIX = ("Please provide a self-contained Python script that solves the following problem "
                      "in a markdown code block:")
RESPONSE_PREFIX = ("Below is a Python script with a self-contained function that solves the problem and "
                   "passes corresponding tests:")
PRELOAD = ("numpy", "pandas", "matplotlib.pyplot")
"""Modules worth importing once in the executor's zygotes for BCB jobs (most tasks use them)."""


def driver_text() -> str:
    return driver_source(*PARTS)


def read_hard_ids(path: str | Path, known: set[str]) -> tuple[str, ...]:
    """Task ids from a file: a JSON list, or one id per line (blank lines and ``#`` comments skipped)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise BenchmarkError(f"{p}: cannot read the hard task list: {exc.strerror or exc}") from None
    if text.lstrip().startswith("["):
        try:
            ids = [(i + 1, str(x)) for i, x in enumerate(json.loads(text))]
        except ValueError as exc:
            raise BenchmarkError(f"{p}: not a JSON list of task ids: {exc}") from None
    else:
        ids = [(i + 1, line.strip()) for i, line in enumerate(text.splitlines())
               if line.strip() and not line.strip().startswith("#")]
    for lineno, tid in ids:
        if tid not in known:
            raise BenchmarkError(f"{p}:{lineno}: unknown BigCodeBench task id {tid!r}")
    if not ids:
        raise BenchmarkError(f"{p}: the hard task list is empty")
    return tuple(dict.fromkeys(t for _, t in ids))


class BigCodeBench(Benchmark):
    """One split (``complete`` or ``instruct``) of BigCodeBench v0.1.0_hf, optionally a subset."""

    columns = ("pass",)

    def __init__(self, split: str = "complete", *, data_dir: str | None = None, bcb_hard_ids: str | None = None,
                 timeout_limit: float = TIMEOUT_LIMIT, min_time_limit: float = MIN_TIME_LIMIT,
                 max_as_limit: int = MAX_AS_LIMIT, max_data_limit: int = MAX_DATA_LIMIT,
                 max_stack_limit: int = MAX_STACK_LIMIT, calibrated: bool = True, strict: bool = True,
                 probe_cache: bool = True, gt_times: Mapping[str, float] | None = None, **_ignored: Any) -> None:
        if split not in ("complete", "instruct"):
            raise BenchmarkError(f"BigCodeBench split must be complete or instruct, not {split!r}")
        self.split = split
        self._rows = {r["task_id"]: r for r in load_rows("bigcodebench", data_dir)}
        self.hard_ids = read_hard_ids(bcb_hard_ids, set(self._rows)) if bcb_hard_ids else None
        self.name = f"bcb-{'hard-' if self.hard_ids else ''}{split}"
        self.timeout_limit, self.min_time_limit = float(timeout_limit), float(min_time_limit)
        self.max_as_limit, self.max_data_limit, self.max_stack_limit = max_as_limit, max_data_limit, max_stack_limit
        self.calibrated, self.strict, self.probe_cache = calibrated, strict, probe_cache
        self.gt_times = dict(gt_times or {})
        self.preload = PRELOAD
        self._prober: req.Prober | None = None
        self._lock = threading.Lock()

    # -- tasks and prompts ---------------------------------------------------------------------
    @cached_property
    def _tasks(self) -> list[Task]:
        ids = self.hard_ids or tuple(self._rows)
        return [self._make_task(self._rows[i]) for i in ids]

    def _make_task(self, row: Mapping[str, Any]) -> Task:
        raw = row[f"{self.split}_prompt"]
        return Task(task_id=row["task_id"], prompt=raw, entry_point=row["entry_point"],
                    instruction=self._chat(raw), data=row)

    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def task(self, task_id: str) -> Task:
        if task_id in self._rows and (self.hard_ids is None or task_id in self.hard_ids):
            return self._make_task(self._rows[task_id])
        raise BenchmarkError(f"{self.name}: unknown task id {task_id!r}")

    def solution_from_sample(self, task: Task, sample: Mapping[str, Any]) -> str:
        """bigcodebench's rule, for both splits: ``solution`` as is, else the task's
        ``complete_prompt`` + ``completion`` (never the instruct prompt)."""
        if "solution" in sample:
            return sample["solution"]
        return task.data["complete_prompt"] + sample["completion"]

    def _chat(self, raw: str) -> str:
        if self.split == "complete":
            return f"{INSTRUCTION_PREFIX}\n```\n{raw.strip()}\n```\n"
        return f"{INSTRUCTION_PREFIX}\n{raw.strip()}\n"

    def response_prefix(self, task: Task | None = None) -> str:
        """The assistant prefill bigcodebench uses with chat models (before a ```python fence)."""
        return RESPONSE_PREFIX

    def extract_code(self, task: Task, text: str) -> str:
        """bigcodebench's sanitize; a bare continuation of the completion prompt is joined to it."""
        entry = task.entry_point or "task_func"
        if self.split == "complete" and f"def {entry}" not in text:
            text = task.data["complete_prompt"] + text
        return sanitize(text, entry)

    def data_hash(self) -> str:
        base = RELEASES["bigcodebench"].raw_md5
        if self.hard_ids:
            base += ":hard-" + hashlib.sha256("\n".join(self.hard_ids).encode()).hexdigest()[:12]
        return base

    # -- judging -------------------------------------------------------------------------------
    def needs(self, task: Task) -> req.Needs:
        return req.task_needs(task.data)

    def availability(self, executor: Executor, tasks: Sequence[Task] | None = None) -> dict[str, str]:
        """Probe what ``tasks`` (default: all) need; ``{name: ""}`` when present, else the error.
        Thread-safe: ``check`` may be called from many threads at once."""
        rows = [t.data for t in tasks] if tasks is not None else list(self._rows.values())
        with self._lock:
            if self._prober is None:
                self._prober = req.Prober(self.probe_cache)
            return self._prober({n for row in rows for n in req.task_needs(row).probes()}, executor)

    def prepare(self, task_ids: Iterable[str], executor: Executor) -> None:
        """Probe the libraries of every task about to be judged in one parallel batch."""
        self.availability(executor, [self.task(t) for t in task_ids])

    def missing(self, task: Task, executor: Executor) -> list[str]:
        """What ``task`` needs and the sandbox lacks (modules, ``nltk_data:<resource>``)."""
        return req.missing(self.needs(task), self.availability(executor, [task]))

    def program_for(self, task: Task, program: str) -> str:
        """What actually runs: bigcodebench's default ``calibrated`` form."""
        return task.data["code_prompt"] + "\n    pass\n" + program if self.calibrated else program

    def time_limits(self, task: Task) -> tuple[float, float]:
        """(suite limit, kill deadline) exactly as ``untrusted_check`` computes them."""
        min_time = max(self.min_time_limit, self.gt_times.get(task.task_id, 20.0))
        timeout = max(self.timeout_limit, min_time) + 1
        return timeout, timeout + 1

    def job(self, task: Task, program: str, tag: str = "") -> Job:
        from restrl_eval.execution import Job, Limits, Profile

        code = self.program_for(task, program)
        timeout, deadline = self.time_limits(task)
        payload = {"test": task.data["test"], "expected": list(expected_tests(task.data["test"])),
                   "timeout": timeout, "deadline": deadline, "strict": self.strict,
                   "test_first_line": len(code.split("\n")) + 1, "entry_point": task.entry_point or "task_func"}
        limits = Limits(timeout_s=deadline + 15.0, cpu_s=2 * deadline + 10.0, memory_mb=int(self.max_as_limit),
                        stack_mb=int(self.max_stack_limit), file_size_mb=512, open_files=1024, processes=128)
        return Job(program=code, driver=driver_text(), payload=payload, profile=Profile.PERMISSIVE,
                   limits=limits, tag=tag or task.task_id)

    def check(self, task: Task, programs: Sequence[str], executor: Executor) -> list[Verdict]:
        gone = self.missing(task, executor)
        if gone:
            return [skipped_verdict(task.task_id, gone) for _ in programs]
        results = executor.run_many([self.job(task, p) for p in programs])
        expected = expected_tests(task.data["test"])
        return [decide(task.task_id, expected, r, strict=self.strict) for r in results]


def _hard(split: str, options: dict[str, Any]) -> BigCodeBench:
    if not options.get("bcb_hard_ids"):
        raise BenchmarkError(f"bcb-hard-{split} needs the option bcb_hard_ids=PATH (a file of task ids); "
                             "no hard list ships with restrl")
    return BigCodeBench(split, **options)


# The registered factories (``restrl_eval.benchmarks`` names them lazily as "module:attr").
def bcb_complete(**options: Any) -> BigCodeBench:
    """BigCodeBench complete split (1140 tasks; docstring prompts)."""
    options.pop("bcb_hard_ids", None)
    return BigCodeBench("complete", **options)


def bcb_instruct(**options: Any) -> BigCodeBench:
    """BigCodeBench instruct split (1140 tasks; natural-language prompts)."""
    options.pop("bcb_hard_ids", None)
    return BigCodeBench("instruct", **options)


def bcb_hard_complete(**options: Any) -> BigCodeBench:
    """BigCodeBench-Hard complete (needs -B bcb_hard_ids=FILE)."""
    return _hard("complete", options)


def bcb_hard_instruct(**options: Any) -> BigCodeBench:
    """BigCodeBench-Hard instruct (needs -B bcb_hard_ids=FILE)."""
    return _hard("instruct", options)
