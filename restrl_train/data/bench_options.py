"""What the data collectors share on the command line: ``--tasks FILE`` and the loud,
recorded evaluation-set warning.

Why here: ``collect-values`` and ``collect-outcomes`` take their problems from a
benchmark (``restrl-eval run``'s own ``--bench``/``-B`` stack) or from a task file; a task
file is benchmark ``tasks`` with ``-B path=FILE``, and ``--tasks FILE`` is the short form,
resolved in one place so the two commands cannot disagree. Data from an evaluation
benchmark is allowed (a user may want it) but always warned about on stderr and recorded
in the records' meta file (``eval_benchmarks``), which the trainers read again.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from restrl_eval.run.config import ConfigError
from restrl_train.data.records import eval_benchmark_names, eval_data_warning

__all__ = ["TASKS_BENCHMARK", "tasks_option", "with_tasks_file", "warn_eval_data"]

F = TypeVar("F", bound=Callable[..., Any])

TASKS_BENCHMARK = "tasks"
"""The registered benchmark that reads a task file (``restrl_eval.benchmarks.tasks``)."""


def tasks_option(f: F) -> F:
    return click.option(
        "--tasks", "tasks_file", type=click.Path(dir_okay=False), default=None,
        help="A task file as the problems: JSONL rows {task_id, prompt, tests} (the same as "
             "--bench tasks -B path=FILE).")(f)


def with_tasks_file(data: Mapping[str, Any], tasks_file: str | None) -> dict[str, Any]:
    """``data`` (RunConfig's layout) with ``--tasks FILE`` as its benchmark. Raises
    ConfigError when another benchmark or another path is given too."""
    out = dict(data)
    if tasks_file is None:
        return out
    bench = dict(out.get("benchmark") or {})
    if bench.get("name") not in (None, TASKS_BENCHMARK):
        raise ConfigError(f"--tasks FILE and --bench {bench['name']} both given; pass one")
    options = dict(bench.get("options") or {})
    if options.get("path") not in (None, tasks_file):
        raise ConfigError(f"--tasks {tasks_file} and -B path={options['path']} both given; pass one")
    bench.update(name=TASKS_BENCHMARK, options={**options, "path": tasks_file})
    out["benchmark"] = bench
    return out


def warn_eval_data(bench: str, task_ids: Sequence[str], what: str) -> list[str]:
    """The evaluation benchmarks ``bench``'s problems come from (by name, or by task ids
    for a task file), warned about on stderr; record the list in the output's metadata."""
    names = eval_benchmark_names(bench, task_ids)
    warning = eval_data_warning(names, what)
    if warning:
        click.secho(f"WARNING: {warning}", fg="yellow", err=True)
    return names
