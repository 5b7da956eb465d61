"""What the model-using commands (run, sweep, collect-values) share: one-line errors and
loading a policy or a scorer with an error that names the option and the value.

Why here: each command must turn a failed load (missing directory, unknown alias, a
backend not installed) into the same one-line message and a non-zero exit, before any
long work starts.
"""
from __future__ import annotations

from typing import Any

import click

__all__ = ["UsageFail", "fail", "load_policy_or_fail", "load_scorer_or_fail", "usage"]

_LOAD_ERRORS = (OSError, ValueError, KeyError, ImportError, RuntimeError)  # BackendError is a RuntimeError


def fail(exc: BaseException | str) -> click.ClickException:
    """A one-line ClickException from an error (first line of its message)."""
    text = str(exc).strip() or type(exc).__name__
    return click.ClickException(text.splitlines()[0])


class UsageFail(click.ClickException):
    """A usage error (a bad option or combination of options): one line, and exit status 2
    like click's own usage errors, in every command."""

    exit_code = 2


def usage(exc: BaseException | str) -> click.ClickException:
    """A one-line usage error (exit status 2) from an error (first line of its message)."""
    text = str(exc).strip() or type(exc).__name__
    return UsageFail(text.splitlines()[0])


def _named(flag: str, value: str, exc: BaseException) -> str:
    """The error's first line, prefixed with the option unless it already names the value."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    return text if value in text else f"{flag} {value}: {text}"


def _backends() -> Any:
    try:
        from restrl_eval import backends
    except ImportError as exc:
        raise fail(f"cannot load the model backends: {exc} (pip install 'restrl[models]')") from None
    return backends


def load_policy_or_fail(model: str, backend: str, **options: Any) -> Any:
    try:
        return _backends().load_policy(model, backend=backend, **options)
    except _LOAD_ERRORS as exc:
        raise fail(_named("--model", model, exc)) from None


def load_scorer_or_fail(path: str, flag: str = "--scorer", backend: str = "transformers", **options: Any) -> Any:
    try:
        return _backends().load_scorer(path, backend=backend, **options)
    except _LOAD_ERRORS as exc:
        raise fail(_named(flag, path, exc)) from None


def describe(obj: Any) -> dict[str, Any]:
    """What a loaded policy or scorer says about itself (weights hash ...), for config.json."""
    desc = getattr(obj, "describe", None)
    return dict(desc()) if callable(desc) else {"name": type(obj).__name__}


def build_benchmark_or_fail(bench: Any) -> tuple[Any, list[Any]]:
    """The benchmark of a ``BenchmarkConfig`` and its tasks (the first ``limit``).

    Options are checked again against the built object's class, for plugin factories whose
    class could not be known before building them."""
    from restrl_eval.benchmarks import BenchmarkError, get_benchmark
    from restrl_eval.registry import RegistryError
    from restrl_eval.run.config import ConfigError, benchmark_option_names, check_benchmark_options

    try:
        benchmark = get_benchmark(bench.name, **dict(bench.options))
        check_benchmark_options(bench.name, bench.options, benchmark_option_names(type(benchmark)))
        tasks = benchmark.tasks()
    except ConfigError as exc:
        raise usage(exc) from None
    except (RegistryError, BenchmarkError, OSError, ValueError) as exc:
        raise fail(exc) from None
    return benchmark, (tasks[: bench.limit] if bench.limit is not None else tasks)


def set_threads(threads: int | None) -> None:
    """torch's CPU thread count (speed only, not part of a run's identity)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def open_executor_or_fail(execution: Any, preload: Any = ()) -> Any:
    """A sandbox pool for an ``ExecutionConfig``; ``--sandbox bwrap`` without bubblewrap is a
    one-line error, not a traceback."""
    from restrl_eval.execution import SandboxUnavailable, make_executor

    try:
        return make_executor(execution.executor, execution.workers, sandbox=execution.sandbox,
                             preload=tuple(preload))
    except SandboxUnavailable as exc:
        raise fail(f"--sandbox {execution.sandbox}: {exc}") from None
    except ValueError as exc:  # a malformed --executor spec
        raise fail(f"--executor {execution.executor}: {exc}") from None
