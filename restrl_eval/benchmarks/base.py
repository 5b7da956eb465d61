"""The benchmark contract: tasks, prompts, code extraction and verdicts.

Why this shape: data flows one way (benchmark -> strategy -> executor -> run store ->
report). A benchmark owns everything that is specific to it (its data, its prompt
format, how code is pulled out of a model's text, and how a program is judged), and
hands the judging itself to the shared sandboxed executor, so one executor serves
evaluation, training rewards and search alike.
"""
from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from restrl_eval.registry import Registry

if TYPE_CHECKING:
    from restrl_eval.execution import Executor


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
    """Base class of every benchmark adapter.

    Besides the abstract methods, a benchmark may override the optional hooks below; their
    defaults do nothing (or the evident thing), so callers call them unconditionally.
    """

    name: str = ""
    preload: tuple[str, ...] = ()
    """Modules worth importing once in the executor's zygotes for this benchmark's jobs."""

    @abc.abstractmethod
    def tasks(self) -> list[Task]:
        """All tasks, in the benchmark's canonical order."""

    def task(self, task_id: str) -> Task:
        """The task ``task_id``. Default: an id index over ``tasks()``, built on first use
        (a benchmark's task list does not change after construction)."""
        index = self.__dict__.get("_task_index")
        if index is None:
            index = self.__dict__["_task_index"] = {t.task_id: t for t in self.tasks()}
        try:
            return index[task_id]
        except KeyError:
            raise BenchmarkError(f"{self.name}: unknown task id {task_id!r}") from None

    def prompt(self, task: Task, style: str = "completion") -> str:
        """The model's input. ``style`` is ``completion`` (``task.prompt``, continued by the
        model) or ``chat`` (``task.instruction``, an instruction for chat models; ``instruct``
        is its alias). Benchmarks whose reference harness shapes the text override this."""
        if style == "completion":
            return task.prompt
        if style in ("chat", "instruct"):
            return task.instruction
        raise BenchmarkError(f"{self.name}: unknown prompt style {style!r} (completion, chat)")

    @abc.abstractmethod
    def extract_code(self, task: Task, text: str) -> str:
        """Turn a model's raw text into a complete program (sanitizing as the reference does)."""

    @abc.abstractmethod
    def check(self, task: Task, programs: Sequence[str], executor: Executor) -> list[Verdict]:
        """Judge complete programs through ``executor`` (a ``restrl_eval.execution.Executor``)."""

    # -- optional hooks ------------------------------------------------------------------------
    def prepare(self, task_ids: Iterable[str], executor: Executor) -> None:  # noqa: B027 (a no-op hook)
        """Called once before ``task_ids`` are judged, with the executor that will judge them:
        the place for expensive per-task setup done in parallel (evalplus: expected outputs;
        BigCodeBench: probing task libraries). Default: nothing."""

    def cost_hint(self, task_id: str) -> float:
        """A relative cost of judging one program of ``task_id`` (after ``prepare``), so
        callers can start long tasks first. Default 0.0: no hint, the order is kept."""
        return 0.0

    def solution_from_sample(self, task: Task, sample: Mapping[str, Any]) -> str:
        """The complete program of a samples-file record: ``solution`` as is, else the
        task's prompt + ``completion`` (evalplus' rule; BigCodeBench overrides it)."""
        if "solution" in sample:
            return str(sample["solution"])
        return task.prompt + str(sample["completion"])

    def response_prefix(self, task: Task | None = None) -> str | None:
        """The assistant reply opening the reference harness uses with chat models (evalplus'
        and bigcodebench's "Below is a Python script ..."), or None when it has none. Default:
        None (APPS keeps its opening per task, in ``task.data["response_prefix"]``)."""
        return None

    def problem_text(self, task: Task) -> str:
        """The raw problem statement (what a scorer or a training set shows as the
        question). Default: the task's prompt, which is the statement for function-style
        benchmarks (signature + docstring); APPS returns its question."""
        return task.prompt

    def data_hash(self) -> str:
        """A hash of the exact data in use, recorded by every run."""
        return ""

    @property
    def columns(self) -> tuple[str, ...]:
        """Summary columns. evalplus benchmarks give ('base', 'plus')."""
        return ("pass",)


BENCHMARKS: Registry[Callable[..., Benchmark]] = Registry("benchmark", "restrl.benchmarks", base=Benchmark)
"""Maps a benchmark name to a factory (a ``Benchmark`` subclass or callable) taking
keyword options (``data_dir=...``, ...) and returning a ``Benchmark``."""
