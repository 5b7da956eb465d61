"""``apps-train``: the APPS *train* split of the user's copy, as training data.

Why a benchmark of its own: verifier and policy training need APPS problems that are
not the test problems ``apps500`` is drawn from. It reads the same copies as the other
APPS benchmarks (``--apps-path``: a directory holding ``train.jsonl``, ``train/NNNN/``,
a ``datasets`` export with a train split, or a train file named directly), and refuses
whatever looks like test data: a file with ``test`` in its name (``test.jsonl``,
ReST-RL's ``test_500.jsonl``), so a copy without a train split is never read as one.
Task ids are ``APPS-train/<id>``: APPS numbers both splits from 0, and training data
must never share an id with an evaluation task.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from restrl_eval.benchmarks.apps.adapter import AppsBenchmark, Selection
from restrl_eval.benchmarks.apps.loader import detect_layout
from restrl_eval.benchmarks.apps.problem import AppsProblem
from restrl_eval.benchmarks.base import BenchmarkError, Task

__all__ = ["AppsTrainBenchmark", "TRAIN_ID_PREFIX", "apps_train"]

TRAIN_ID_PREFIX = "APPS-train/"


class AppsTrainBenchmark(AppsBenchmark):
    """Every problem of the copy's train split."""

    def _task(self, p: AppsProblem) -> Task:
        task = super()._task(p)
        return dataclasses.replace(task, task_id=f"{TRAIN_ID_PREFIX}{p.problem_id}")


def apps_train(**options: Any) -> AppsTrainBenchmark:
    """APPS train split of your copy (--apps-path); task ids APPS-train/<id>; test files refused."""
    split = options.pop("apps_split", "train")
    if split != "train":
        raise BenchmarkError(f"apps-train reads the train split (got apps_split={split!r}; use apps-full for others)")
    bench = AppsTrainBenchmark(Selection("apps-train"), apps_split="train", **options)
    _layout, target = detect_layout(bench.path, "train")
    if target.is_file() and "test" in target.name.lower():
        raise BenchmarkError(f"{target}: apps-train will not read a test file; point --apps-path at a copy "
                             "with a train split (train.jsonl, train/NNNN/, or a train file)")
    return bench
