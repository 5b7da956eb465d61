"""Benchmark adapters and their registry.

``get_benchmark(name, **options)`` is the one way callers obtain a benchmark. The
in-tree adapter modules are imported on first use (each registers itself with
``BENCHMARKS``); third-party packages register through the ``restrl.benchmarks``
entry-point group.
"""
from __future__ import annotations

import importlib
from typing import Any

from restrl_eval.benchmarks.base import BENCHMARKS, Benchmark, BenchmarkError, Task, Verdict

__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkError", "Task", "Verdict", "get_benchmark", "benchmark_names"]

_IN_TREE = (
    "restrl_eval.benchmarks.evalplus",
    "restrl_eval.benchmarks.bigcodebench",
    "restrl_eval.benchmarks.apps",
)
_loaded = False


def _load_in_tree() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in _IN_TREE:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:  # a real missing dependency inside the module
                raise


def benchmark_names() -> list[str]:
    _load_in_tree()
    return BENCHMARKS.names()


def get_benchmark(name: str, **options: Any) -> Benchmark:
    """Build benchmark ``name``. ``options`` (e.g. ``data_dir``, ``apps_path``) are passed to
    its factory; factories accept ``**options`` and ignore the ones they do not use."""
    _load_in_tree()
    return BENCHMARKS.get(name)(**options)
