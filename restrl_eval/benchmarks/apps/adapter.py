"""APPS benchmarks: ``apps500`` (pinned), ``apps-intro``, ``apps-interview``,
``apps-competition`` and ``apps-full``, read from the user's own copy of APPS.

Options and why ``apps500`` is restrl's own documented selection: README.md in this folder.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from restrl_eval.benchmarks.apps.loader import load_problems, resolve_apps_path
from restrl_eval.benchmarks.apps.metric import MetricConfig, build_jobs, judge
from restrl_eval.benchmarks.apps.problem import AppsProblem, content_hash
from restrl_eval.benchmarks.apps.prompts import PROMPT_STYLES, AppsPrompt, extract_program, format_prompt
from restrl_eval.benchmarks.base import Benchmark, BenchmarkError, Task, Verdict

if TYPE_CHECKING:
    from restrl_eval.execution import Executor

__all__ = ["AppsBenchmark", "Selection", "apps500_ids", "APPS500_FILE"]

log = logging.getLogger(__name__)

APPS500_FILE = Path(__file__).resolve().parents[2] / "data" / "apps500.json"


def apps500_ids(path: Path = APPS500_FILE) -> list[int]:
    """The pinned apps500 test-split ids (package data, a copy of benchmarks/apps500.json)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ids = [int(x) for x in data["ids"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BenchmarkError(f"{path}: cannot read the apps500 id list: {exc}") from None
    if len(ids) != 500 or len(set(ids)) != 500:
        raise BenchmarkError(f"{path}: the apps500 id list must hold 500 distinct ids, has {len(set(ids))}")
    return ids


@dataclass(frozen=True)
class Selection:
    """Which problems of the copy a benchmark uses: pinned ids, or a difficulty, or all."""

    name: str
    ids: tuple[int, ...] | None = None
    difficulty: str | None = None

    def keep(self) -> Callable[[Any, str | None], bool]:
        if self.ids is not None:
            wanted = set(self.ids)
            return lambda pid, diff: pid in wanted
        if self.difficulty is not None:
            return lambda pid, diff: diff == self.difficulty
        return lambda pid, diff: True


class AppsBenchmark(Benchmark):
    """One APPS selection over the user's copy. Loads lazily, on first use of the data."""

    preload = ("numpy",)  # the metric's preamble imports numpy: executors should preload it

    def __init__(self, selection: Selection, *, apps_path: str | Path | None = None,
                 apps_compat: str | bool | None = "fixed", apps_prompt: str | None = None,
                 apps_timeout: float = 4.0, apps_global_timeout: float = 60.0, apps_memory_mb: int = 4096,
                 apps_split: str = "test", **options: Any) -> None:
        self.name = selection.name
        self.selection = selection
        # ``prompt_style`` is accepted as an alias when it names an APPS style; other values
        # (e.g. a runner's "chat"/"completion") are not this benchmark's business
        alias = options.get("prompt_style")
        style = apps_prompt or (alias if alias in PROMPT_STYLES else None) or "restrl"
        if style not in PROMPT_STYLES:
            raise BenchmarkError(f"unknown APPS prompt style {style!r} (known: {', '.join(PROMPT_STYLES)})")
        self.prompt_style = style
        if apps_compat is None or isinstance(apps_compat, bool):  # a CLI flag: on means the reference
            apps_compat = "reference" if apps_compat else "fixed"
        try:
            self.metric = MetricConfig(apps_compat, float(apps_timeout), float(apps_global_timeout), int(apps_memory_mb))
        except ValueError as exc:
            raise BenchmarkError(str(exc)) from None
        self.split = apps_split
        self.path = resolve_apps_path(apps_path)

    # -- data --------------------------------------------------------------------------
    @cached_property
    def _loaded(self) -> tuple[str, dict[Any, AppsProblem]]:
        layout, problems = load_problems(self.path, self.split, self.selection.keep())
        if self.selection.ids is not None:
            missing = sorted(set(self.selection.ids) - set(problems))
            if missing:
                shown = ", ".join(map(str, missing[:20])) + (f", ... ({len(missing)} in all)" if len(missing) > 20 else "")
                raise BenchmarkError(f"{self.path}: this APPS copy lacks {len(missing)} of the {self.name} problem ids: {shown}")
        empty = sorted((p.problem_id for p in problems.values() if p.n_tests == 0), key=str)
        if empty and self.selection.ids is not None:
            raise BenchmarkError(f"{self.path}: {self.name} problems without tests in this copy: "
                                 + ", ".join(map(str, empty[:20])))
        for pid in empty:
            log.warning("APPS problem %s has no tests; skipped", pid)
            del problems[pid]
        if not problems:
            raise BenchmarkError(f"{self.path}: no {self.name} problems in this APPS copy")
        return layout, problems

    @property
    def layout(self) -> str:
        return self._loaded[0]

    @property
    def problems(self) -> dict[Any, AppsProblem]:
        return self._loaded[1]

    def problem(self, task: Task) -> AppsProblem:
        pid = task.data.get("problem_id") if task.data else None
        try:
            return self.problems[pid]
        except KeyError:
            raise BenchmarkError(f"{self.name}: unknown task id {task.task_id!r}") from None

    def problem_text(self, task: Task) -> str:
        """The APPS question (the prompt adds starter code and format instructions)."""
        return self.problem(task).question

    @cached_property
    def _tasks(self) -> list[Task]:
        order = sorted(self.problems.values(), key=lambda p: (isinstance(p.problem_id, str), p.problem_id))
        return [self._task(p) for p in order]

    def _task(self, p: AppsProblem) -> Task:
        fp = format_prompt(p.question, p.starter_code, bool(p.fn_name), self.prompt_style)
        data = {"problem_id": p.problem_id, "difficulty": p.difficulty, "fn_name": p.fn_name,
                "starter_code": p.starter_code, "response_prefix": fp.response_prefix, "stop": list(fp.stop),
                "prompt_style": fp.style, "n_tests": p.n_tests}
        return Task(f"APPS/{p.problem_id}", fp.completion, p.fn_name, fp.instruction, data)

    def tasks(self) -> list[Task]:
        return list(self._tasks)

    @cached_property
    def _hash(self) -> str:
        return content_hash(self.problems.values())

    def data_hash(self) -> str:
        return self._hash

    # -- prompts -----------------------------------------------------------------------
    def formatted(self, task: Task) -> AppsPrompt:
        p = self.problem(task)
        return format_prompt(p.question, p.starter_code, bool(p.fn_name), self.prompt_style)

    def prompt(self, task: Task, style: str = "completion") -> str:
        if style == "chat":
            return task.instruction
        if style == "completion":
            return task.prompt
        raise BenchmarkError(f"unknown prompt form {style!r} (completion or chat)")

    def extract_code(self, task: Task, text: str) -> str:
        return extract_program(text, self.formatted(task))

    # -- judging -----------------------------------------------------------------------
    def check(self, task: Task, programs: Sequence[str], executor: Executor) -> list[Verdict]:
        problem = self.problem(task)
        plan = [build_jobs(problem, prog, self.metric, tag=f"{task.task_id}#{k}") for k, prog in enumerate(programs)]
        results = executor.run_many([job for jobs in plan for job in jobs])
        verdicts, at = [], 0
        for jobs in plan:
            report = judge(problem, results[at:at + len(jobs)], self.metric)
            at += len(jobs)
            verdicts.append(Verdict(task.task_id, report.passed, report.status, report.reward, report.n_passed,
                                    len(report.outcomes),
                                    {"tests": list(report.outcomes), "compat": self.metric.compat,
                                     "detail": report.detail}))
        return verdicts


def _factory(selection: Callable[[], Selection]) -> Callable[..., AppsBenchmark]:
    def make(**options: Any) -> AppsBenchmark:
        return AppsBenchmark(selection(), **options)

    return make


# registered lazily by name in ``restrl_eval.benchmarks``
apps500 = _factory(lambda: Selection("apps500", ids=tuple(apps500_ids())))
apps_intro = _factory(lambda: Selection("apps-intro", difficulty="introductory"))
apps_interview = _factory(lambda: Selection("apps-interview", difficulty="interview"))
apps_competition = _factory(lambda: Selection("apps-competition", difficulty="competition"))
apps_full = _factory(lambda: Selection("apps-full"))
