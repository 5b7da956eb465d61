"""Benchmark adapters and their registry.

``get_benchmark(name, **options)`` is the one way callers obtain a benchmark. In-tree
families are registered below as lazy ``"module:attr"`` entries (nothing is imported until
a name is looked up); third-party packages register through the ``restrl.benchmarks``
entry-point group. One folder per family (``evalplus/``, ``bigcodebench/``, ``apps/``),
each with its README; ``sandbox/`` holds the driver text they share.
"""
from __future__ import annotations

from typing import Any

from restrl_eval.benchmarks.base import BENCHMARKS, Benchmark, BenchmarkError, Task, Verdict

__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkError", "Task", "Verdict", "get_benchmark", "benchmark_names"]

_LAZY = {
    "humaneval": "restrl_eval.benchmarks.evalplus.adapter:humaneval",
    "humaneval+": "restrl_eval.benchmarks.evalplus.adapter:humaneval_plus",
    "mbpp": "restrl_eval.benchmarks.evalplus.adapter:mbpp",
    "mbpp+": "restrl_eval.benchmarks.evalplus.adapter:mbpp_plus",
    "bcb-complete": "restrl_eval.benchmarks.bigcodebench.adapter:bcb_complete",
    "bcb-instruct": "restrl_eval.benchmarks.bigcodebench.adapter:bcb_instruct",
    "bcb-hard-complete": "restrl_eval.benchmarks.bigcodebench.adapter:bcb_hard_complete",
    "bcb-hard-instruct": "restrl_eval.benchmarks.bigcodebench.adapter:bcb_hard_instruct",
    "apps500": "restrl_eval.benchmarks.apps.adapter:apps500",
    "apps-intro": "restrl_eval.benchmarks.apps.adapter:apps_intro",
    "apps-interview": "restrl_eval.benchmarks.apps.adapter:apps_interview",
    "apps-competition": "restrl_eval.benchmarks.apps.adapter:apps_competition",
    "apps-full": "restrl_eval.benchmarks.apps.adapter:apps_full",
    "apps-train": "restrl_eval.benchmarks.apps.train:apps_train",
    "tasks": "restrl_eval.benchmarks.tasks:tasks_file",
}
for _name, _target in _LAZY.items():
    BENCHMARKS.add_lazy(_name, _target)

# Modules that still register themselves when imported (to become lazy entries above).
BENCHMARKS.add_modules("restrl_eval.benchmarks.mini")


def benchmark_names() -> list[str]:
    return BENCHMARKS.names()


def get_benchmark(name: str, **options: Any) -> Benchmark:
    """Build benchmark ``name``. ``options`` (e.g. ``data_dir``, ``apps_path``) are passed to
    its factory; factories accept ``**options`` and ignore the ones they do not use."""
    return BENCHMARKS.get(name)(**options)
