"""What the model-using commands (run, sweep, collect-values) share: one-line errors and
loading a policy or a scorer with an error that names the option and the value.

Why here: each command must turn a failed load (missing directory, unknown alias, a
backend not installed) into the same one-line message and a non-zero exit, before any
long work starts.
"""
from __future__ import annotations

from typing import Any

import click

__all__ = ["fail", "load_policy_or_fail", "load_scorer_or_fail"]

_LOAD_ERRORS = (OSError, ValueError, KeyError, ImportError, RuntimeError)  # BackendError is a RuntimeError


def fail(exc: BaseException | str) -> click.ClickException:
    """A one-line ClickException from an error (first line of its message)."""
    text = str(exc).strip() or type(exc).__name__
    return click.ClickException(text.splitlines()[0])


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


def load_policy_or_fail(model: str, backend: str) -> Any:
    try:
        return _backends().load_policy(model, backend=backend)
    except _LOAD_ERRORS as exc:
        raise fail(_named("--model", model, exc)) from None


def load_scorer_or_fail(path: str, flag: str = "--scorer") -> Any:
    try:
        return _backends().load_scorer(path)
    except _LOAD_ERRORS as exc:
        raise fail(_named(flag, path, exc)) from None
