"""The benchmark contract: tasks, prompts, code extraction and verdicts.

Why this shape: data flows one way (benchmark -> strategy -> executor -> run store ->
report). A benchmark owns everything that is specific to it (its data, its prompt
format, how code is pulled out of a model's text, and how a program is judged), and
hands the judging itself to the shared sandboxed executor, so one executor serves
evaluation, training rewards and search alike.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from restrl_eval.registry import Registry


class BenchmarkError(ValueError):
    """Bad benchmark input (missing file, bad hash, unknown task). One-line message."""


@dataclass(frozen=True)
class Task:
    """One problem. ``data`` keeps the benchmark's raw row for its own use."""

    task_id: str
    prompt: str  # the text a completion model continues (evalplus' ``prompt``)
    entry_point: str | None = None
    instruction: str = ""  # natural-language form for chat/instruct models
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Verdict:
    """The judgement of one program on one task.

    ``status`` is the executor's status of the decisive run (pass/fail/error/timeout/...).
    ``reward`` is the fraction of tests passed (training reward). ``details`` holds
    benchmark-specific fields, e.g. ``{"base": "pass", "plus": "fail"}`` for evalplus.
    """

    task_id: str
    passed: bool
    status: str
    reward: float = 0.0
    tests_passed: int = 0
    tests_total: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)


class Benchmark(abc.ABC):
    """Base class of every benchmark adapter."""

    name: str = ""

    @abc.abstractmethod
    def tasks(self) -> list[Task]:
        """All tasks, in the benchmark's canonical order."""

    def task(self, task_id: str) -> Task:
        for t in self.tasks():
            if t.task_id == task_id:
                return t
        raise BenchmarkError(f"{self.name}: unknown task id {task_id!r}")

    @abc.abstractmethod
    def prompt(self, task: Task, style: str = "completion") -> str:
        """The model's input. ``style`` is ``completion`` or ``chat`` (instruction text)."""

    @abc.abstractmethod
    def extract_code(self, task: Task, text: str) -> str:
        """Turn a model's raw text into a complete program (sanitizing as the reference does)."""

    @abc.abstractmethod
    def check(self, task: Task, programs: Sequence[str], executor: Any) -> list[Verdict]:
        """Judge complete programs through ``executor`` (a ``restrl_eval.execution.Executor``)."""

    def data_hash(self) -> str:
        """A hash of the exact data in use, recorded by every run."""
        return ""

    @property
    def columns(self) -> tuple[str, ...]:
        """Summary columns. evalplus benchmarks give ('base', 'plus')."""
        return ("pass",)


BENCHMARKS: Registry[type[Benchmark] | Any] = Registry("benchmark", "restrl.benchmarks")
"""Maps a benchmark name to a factory (a ``Benchmark`` subclass or callable) taking
keyword options (``data_dir=...``, ...) and returning a ``Benchmark``."""
