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
from restrl_eval.benchmarks.apps.schedule import run_fixed
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
                 apps_split: str = "test", apps_sample_budget: float | None = None,
                 apps_early_stop: int | None = None, timeout: float | None = None,
                 sample_budget: float | None = None, early_stop: int | None = None, **options: Any) -> None:
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
        # ``timeout``/``sample_budget``/``early_stop`` are short aliases of the apps_* keys
        per_test = _alias("timeout", timeout, "apps_timeout", apps_timeout, 4.0)
        budget = _alias("sample_budget", sample_budget, "apps_sample_budget", apps_sample_budget, None)
        stop = _alias("early_stop", early_stop, "apps_early_stop", apps_early_stop, None)
        try:
            self.metric = MetricConfig(apps_compat, float(per_test), float(apps_global_timeout), int(apps_memory_mb),
                                       None if budget is None else float(budget), None if stop is None else int(stop))
        except (TypeError, ValueError) as exc:
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

    def extract_code(self, task: Task, text: str) -> str:
        return extract_program(text, self.formatted(task))

    # -- judging -----------------------------------------------------------------------
    def check(self, task: Task, programs: Sequence[str], executor: Executor) -> list[Verdict]:
        problem = self.problem(task)
        if self.metric.compat == "fixed":
            per_sample = run_fixed(problem, programs, self.metric, executor, tag=task.task_id)
        else:
            jobs = [build_jobs(problem, prog, self.metric, tag=f"{task.task_id}#{k}")[0]
                    for k, prog in enumerate(programs)]
            per_sample = [[r] for r in executor.run_many(jobs)]
        verdicts = []
        for results in per_sample:
            report = judge(problem, results, self.metric)
            verdicts.append(Verdict(task.task_id, report.passed, report.status, report.reward, report.n_passed,
                                    len(report.outcomes),
                                    {"tests": list(report.outcomes), "compat": self.metric.compat,
                                     "detail": report.detail}))
        return verdicts


def _alias(short: str, short_value: Any, long: str, long_value: Any, default: Any) -> Any:
    """The value of an option given as ``short`` or ``long`` (both: they must agree)."""
    if short_value is None:
        return long_value
    if long_value not in (None, default) and long_value != short_value:
        raise BenchmarkError(f"APPS: -B {short}={short_value} and -B {long}={long_value} disagree")
    return short_value


def _factory(selection: Callable[[], Selection], doc: str) -> Callable[..., AppsBenchmark]:
    def make(**options: Any) -> AppsBenchmark:
        return AppsBenchmark(selection(), **options)

    make.__doc__ = doc  # `restrl-eval list` shows its first line
    return make


# registered lazily by name in ``restrl_eval.benchmarks``
apps500 = _factory(lambda: Selection("apps500", ids=tuple(apps500_ids())),
                   "APPS-500: ReST-RL's 500-problem APPS test subset (your APPS copy, --apps-path).")
apps_intro = _factory(lambda: Selection("apps-intro", difficulty="introductory"),
                      "APPS test split, introductory problems (--apps-path).")
apps_interview = _factory(lambda: Selection("apps-interview", difficulty="interview"),
                          "APPS test split, interview problems (--apps-path).")
apps_competition = _factory(lambda: Selection("apps-competition", difficulty="competition"),
                            "APPS test split, competition problems (--apps-path).")
apps_full = _factory(lambda: Selection("apps-full"), "APPS test split, all 5000 problems (--apps-path).")
