"""HumanEval(+) and MBPP(+) with evalplus 0.3.1 verdicts: tasks, prompts, extraction.

Registered names: ``humaneval``, ``mbpp`` (base inputs only) and ``humaneval+``, ``mbpp+`` (base
and plus). How programs are judged, and where restrl is stricter than evalplus: README.md
in this folder.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from restrl_eval.benchmarks.base import Benchmark, BenchmarkError, Task, Verdict
from restrl_eval.benchmarks.evalplus.data import Dataset, Problem, TruthCache, load_dataset
from restrl_eval.benchmarks.evalplus.judge import StagedJudge
from restrl_eval.benchmarks.evalplus.oracle import PhaseResult
from restrl_eval.benchmarks.evalplus.sanitize import sanitize

if TYPE_CHECKING:
    from restrl_eval.execution import Executor

log = logging.getLogger(__name__)

__all__ = ["EvalPlusBenchmark", "INSTRUCTION_PREFIX", "RESPONSE_PREFIX", "DEFAULT_MIN_TIME_LIMIT",
           "DEFAULT_GT_TIME_LIMIT_FACTOR"]

# evalplus 0.3.1 codegen's chat prompt (evalplus/codegen.py, provider/utility.py)
INSTRUCTION_PREFIX = ("Please provide a self-contained Python script that solves the following problem "
                      "in a markdown code block:")
RESPONSE_PREFIX = ("Below is a Python script with a self-contained function that solves the problem and "
                   "passes corresponding tests:")
DEFAULT_MIN_TIME_LIMIT = 1.0  # evalplus/config.py
DEFAULT_GT_TIME_LIMIT_FACTOR = 4.0
PRELOAD = ("numpy", "math", "re", "collections", "itertools", "functools", "heapq", "bisect", "cmath",
           "operator", "string", "hashlib", "statistics", "fractions", "decimal", "typing", "copy",
           "random", "datetime", "json", "shutil", "subprocess", "faulthandler", "contextlib")


class EvalPlusBenchmark(Benchmark):
    """One of humaneval, humaneval+, mbpp, mbpp+ (see the module docstring)."""

    preload = PRELOAD

    def __init__(self, family: str, plus: bool, *, data_dir: str | os.PathLike[str] | None = None,
                 min_time_limit: float = DEFAULT_MIN_TIME_LIMIT,
                 gt_time_limit_factor: float = DEFAULT_GT_TIME_LIMIT_FACTOR, chunk_s: float | None = None,
                 **_ignored: Any) -> None:
        if family not in ("humaneval", "mbpp"):
            raise BenchmarkError(f"unknown evalplus family {family!r}")
        self.family, self.plus = family, plus
        self.name = family + ("+" if plus else "")
        self.min_time_limit, self.gt_time_limit_factor = float(min_time_limit), float(gt_time_limit_factor)
        self.dataset: Dataset = load_dataset(family, data_dir)
        self.truth_cache = TruthCache(self.dataset)
        self._tasks = [self._task(p) for p in self.dataset.problems.values()]
        if chunk_s is not None and not float(chunk_s) > 0:
            raise BenchmarkError(f"{self.name}: chunk_s must be positive seconds (judge_chunks.py)")
        # chunk_s: split long plus phases across workers (judge_chunks.py); off by default (parity)
        self.judge = StagedJudge(self.name, family, plus, self.dataset, self.truth_cache,
                                 self.min_time_limit, self.gt_time_limit_factor,
                                 None if chunk_s is None else float(chunk_s))

    def _task(self, p: Problem) -> Task:
        instruction = f"{INSTRUCTION_PREFIX}\n```\n{p.prompt.strip()}\n```\n"
        return Task(p.task_id, p.prompt, p.entry_point, instruction, data=p.row)

    def tasks(self) -> list[Task]:
        return list(self._tasks)


    def prompt(self, task: Task, style: str = "completion") -> str:
        """``completion``: evalplus' direct-completion prompt (the stripped problem plus a
        newline); ``chat``: its instruction for chat models (the assistant's reply is
        meant to start with ``response_prefix()``)."""
        if style == "completion":
            return task.prompt.strip() + "\n"
        if style in ("chat", "instruct"):
            return task.instruction
        raise BenchmarkError(f"{self.name}: unknown prompt style {style!r} (completion, chat)")

    def response_prefix(self, task: Task | None = None) -> str:
        return f"{RESPONSE_PREFIX}\n```python\n"

    def extract_code(self, task: Task, text: str) -> str:
        """evalplus' sanitize. A continuation that does not define the entry point is taken
        as a direct completion and joined to the prompt first, as evalplus codegen does."""
        if task.entry_point and not re.search(rf"\bdef\s+{re.escape(task.entry_point)}\s*\(", text):
            text = self.prompt(task, "completion") + text
        return sanitize(text, task.entry_point)

    def data_hash(self) -> str:
        return self.dataset.md5

    @property
    def columns(self) -> tuple[str, ...]:
        return ("base", "plus") if self.plus else ("base",)

    @property
    def phases(self) -> tuple[str, ...]:
        return self.columns

    def prepare(self, task_ids: Iterable[str], executor: Executor) -> None:
        """Make sure the expected outputs of ``task_ids`` exist (computed in parallel once)."""
        self.truth_cache.get(task_ids, executor, self.judge.compute_truth)

    def cost_hint(self, task_id: str) -> float:
        """Seconds the canonical solution took on all inputs (after ``prepare``): a
        scheduling hint, so a run starts its longest tasks first and ends without one
        long job holding up an otherwise idle pool."""
        truth = self.truth_cache.peek(task_id)
        return float(sum(truth.base_time) + sum(truth.plus_time)) if truth is not None else 0.0

    # -- judging (``judge.StagedJudge``) ---------------------------------------------------------
    def judge_programs(self, task_id: str, programs: Sequence[str], executor: Executor) -> list[dict[str, PhaseResult]]:
        """Per program, evalplus' phase results (``base`` and, for plus benchmarks, ``plus``)."""
        return self.judge.judge_programs(task_id, programs, executor)

    def verdict(self, task_id: str, phases: dict[str, PhaseResult]) -> Verdict:
        return self.judge.verdict(task_id, phases)

    def check(self, task: Task, programs: Sequence[str], executor: Executor) -> list[Verdict]:
        task = self.task(task.task_id)
        return [self.judge.verdict(task.task_id, phases)
                for phases in self.judge.judge_programs(task.task_id, list(programs), executor)]


# The registered factories (``restrl_eval.benchmarks`` names them lazily as "module:attr").
def humaneval(**options: Any) -> EvalPlusBenchmark:
    """HumanEval, base inputs only (evalplus' ``--base-only``)."""
    return EvalPlusBenchmark("humaneval", False, **options)


def humaneval_plus(**options: Any) -> EvalPlusBenchmark:
    """HumanEval+, base and plus inputs."""
    return EvalPlusBenchmark("humaneval", True, **options)


def mbpp(**options: Any) -> EvalPlusBenchmark:
    """MBPP, base inputs only."""
    return EvalPlusBenchmark("mbpp", False, **options)


def mbpp_plus(**options: Any) -> EvalPlusBenchmark:
    """MBPP+, base and plus inputs."""
    return EvalPlusBenchmark("mbpp", True, **options)
