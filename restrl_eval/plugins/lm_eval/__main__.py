"""``restrl-lm-eval`` / ``python -m restrl_eval.plugins.lm_eval``: lm-eval's own CLI with the
``restrl`` model registered and restrl's tasks on the include path.

Why a launcher: lm-eval 0.4.13 finds models only in its own registry and never scans
entry points, so the model must be imported before lm-eval parses ``--model restrl``.
Every argument is lm-eval's; ``--include_path`` defaults to restrl's task directory.
"""
from __future__ import annotations

import sys

from restrl_eval.plugins.lm_eval import TASKS_DIR, register


def with_tasks(argv: list[str]) -> list[str]:
    """``argv`` plus ``--include_path TASKS_DIR`` unless the caller gave one (every lm-eval
    subcommand, ``run``, ``ls`` and ``validate``, takes it)."""
    if any(a == "--include_path" or a.startswith("--include_path=") for a in argv):
        return argv
    if len(argv) < 2 or "-h" in argv or "--help" in argv:  # bare subcommand or help: lm-eval prints its help
        return argv
    return [*argv, "--include_path", str(TASKS_DIR)]


def requested_tasks(argv: list[str]) -> list[str]:
    """The names given to ``--tasks`` (``--tasks a,b c`` or ``--tasks=a,b``)."""
    names: list[str] = []
    for i, a in enumerate(argv):
        if a in ("--tasks", "-t"):  # lm-eval takes several values: --tasks a,b c
            for value in argv[i + 1:]:
                if value.startswith("-"):
                    break
                names += value.split(",")
        elif a.startswith("--tasks="):
            names += a.split("=", 1)[1].split(",")
    return [n.strip() for n in names if n.strip()]


def skip_builtin_tasks() -> None:
    """Make lm-eval index only the include path, not its thousands of built-in task YAMLs
    (about 40 s on a small machine): used when every requested task is restrl's."""
    import lm_eval.tasks as tasks

    base = tasks.TaskManager

    class RestrlOnlyTaskManager(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, include_defaults: bool = False, **kwargs: object) -> None:
            super().__init__(*args, include_defaults=include_defaults, **kwargs)  # type: ignore[arg-type]

    tasks.TaskManager = RestrlOnlyTaskManager  # type: ignore[misc]


def main() -> None:
    register()
    from lm_eval.__main__ import cli_evaluate

    argv = sys.argv[1:]
    names = requested_tasks(argv)
    if names and all(n.startswith("restrl_") for n in names) and "--include_path" not in " ".join(argv):
        skip_builtin_tasks()
    sys.argv = [sys.argv[0], *with_tasks(argv)]
    try:
        cli_evaluate()
    except ValueError as exc:  # a bad --model_args for restrl: one line, usage exit status
        if not str(exc).startswith("restrl model_args:"):
            raise
        print(f"restrl-lm-eval: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
