"""The restrl lm-eval tasks' ``process_results``: answers judged in restrl's sandbox.

Why not lm-eval's own code metric: lm-eval's code tasks load ``code_eval`` from the
Hugging Face hub (so they fail offline), run programs in-process, and its ``mbpp_plus``
grades only three base asserts. Here each answer goes through the restrl benchmark's
``check`` (evalplus 0.3.1 or bigcodebench 0.2.5 semantics, every plus test) on a
sandboxed executor, exactly as ``restrl-eval run`` judges it, and the per-sample
metrics carry the verdict and the restrl cost record (``costs``) into lm-eval's
``--log_samples`` output.

Executor: ``RESTRL_EXECUTOR`` (``local`` | ``auto`` | ``ray`` ... see
``execution.ray_pool.make_executor``) and ``RESTRL_WORKERS`` (sandbox workers, default 2).
"""
from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Sequence
from typing import Any

from restrl_eval.plugins.lm_eval import costs

__all__ = ["process_results", "count"]

_LOCK = threading.Lock()
_BENCHES: dict[str, Any] = {}
_EXECUTORS: dict[tuple[str, ...], Any] = {}
COST_FIELDS = ("candidates", "scorer_calls", "scorer_tokens", "completion_tokens", "prompt_tokens", "wall_s")


def _benchmark(name: str) -> Any:
    with _LOCK:
        if name not in _BENCHES:
            from restrl_eval.benchmarks import get_benchmark

            _BENCHES[name] = get_benchmark(name)
        return _BENCHES[name]


def _executor(bench: Any) -> Any:
    """One executor per preload set for the whole lm-eval process, closed at exit."""
    preload = tuple(getattr(bench, "preload", ()) or ())
    with _LOCK:
        if preload not in _EXECUTORS:
            from restrl_eval.execution.ray_pool import make_executor

            workers = int(os.environ.get("RESTRL_WORKERS", "2"))
            _EXECUTORS[preload] = ex = make_executor(os.environ.get("RESTRL_EXECUTOR", "local"), workers,
                                                     preload=preload)
            atexit.register(ex.close)
        return _EXECUTORS[preload]


def _verdict_record(v: Any) -> dict[str, Any]:
    return {"passed": bool(v.passed), "status": str(getattr(v.status, "value", v.status)),
            "reward": float(v.reward), "tests_passed": int(v.tests_passed), "tests_total": int(v.tests_total),
            "details": dict(v.details)}


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    """Metrics of one document over its answers (one per repeat): ``pass@1`` (the
    benchmark's strictest column), the other columns (``base@1``), the mean cost fields
    (``cost_*``, when the restrl model answered) and ``restrl``: the per-answer verdicts
    and cost records."""
    from restrl_eval.run.store import column_passed

    bench = _benchmark(str(doc["benchmark"]))
    task = bench.task(str(doc["task_id"]))
    executor = _executor(bench)
    prepare = getattr(bench, "prepare", None)
    if callable(prepare):
        prepare([task.task_id], executor)
    answers = [str(r) for r in results]
    verdicts = [_verdict_record(v) for v in bench.check(task, answers, executor)]
    records = [costs.take(task.task_id, a) for a in answers]
    columns = tuple(bench.columns)
    out: dict[str, Any] = {"pass@1": _mean([column_passed(v, columns[-1]) for v in verdicts])}
    for col in columns[:-1]:
        out[f"{col}@1"] = _mean([column_passed(v, col) for v in verdicts])
    if all(r is not None for r in records):
        for f in COST_FIELDS:
            out[f"cost_{f}"] = _mean([r["cost"][f] for r in records])  # type: ignore[index]
    out["restrl"] = {"task_id": task.task_id, "verdicts": verdicts, "records": records}
    return out


def _mean(values: Sequence[float]) -> float:
    return float(sum(values)) / len(values) if values else 0.0


def count(items: Sequence[Any]) -> int:
    """Aggregation of the per-sample ``restrl`` record: the number of documents judged."""
    return len(items)
