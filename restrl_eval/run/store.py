"""The run directory: what a run was (config.json), what it did (samples.jsonl,
verdicts.jsonl, attempts.jsonl) and what it scored (summary.json).

Why this shape: nothing may be lost when a run dies. Rows are appended and flushed to
disk one task at a time, samples first and the verdict last, so a task's verdict row is
its commit record: on resume, a task with a verdict is finished and is never redone, and
any samples written for a task without a verdict (the task the crash interrupted) are
dropped, as is a torn last line. The config is compared field by field on resume, so
rows produced by a different model, strategy, budget or seed are never mixed into one
summary. A small summary.json sits beside the row files so readers need not parse them.

The layout is shared with ``restrl-eval evaluate`` folders and versioned (``FORMAT_VERSION``,
``config.json["kind"]``); ``restrl_eval/run/SCHEMA.md`` documents every file and field.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from restrl_eval.jsonl import read_log

log = logging.getLogger(__name__)

__all__ = [
    "FORMAT_VERSION",
    "KIND_EVALUATE",
    "KIND_RUN",
    "NON_IDENTITY_FIELDS",
    "RESULT_FILES",
    "RunStore",
    "RunStoreError",
    "column_passed",
    "folder_kind",
    "eval_results",
    "package_versions",
    "solution_id",
    "summarize",
]

# 1: the first layout (runs only). 2: runs and evaluate folders share one layout: a
# ``kind`` in config.json, ``solution`` in samples.jsonl, ``sample_index``/``solution_id``
# in verdicts.jsonl, ``eval_results.json`` and the same summary.json names in both.
FORMAT_VERSION = 2
KIND_RUN, KIND_EVALUATE = "run", "evaluate"
CONFIG, SAMPLES, VERDICTS, SUMMARY, ATTEMPTS, RESULTS = (
    "config.json", "samples.jsonl", "verdicts.jsonl", "summary.json", "attempts.jsonl", "eval_results.json",
)
RESULT_FILES = (SAMPLES, VERDICTS, SUMMARY, RESULTS)
# Fields that do not change any result, so a resume may differ in them ("format": a run
# begun by an older restrl may be resumed; readers take both row layouts).
NON_IDENTITY_FIELDS = frozenset({"limit", "workers", "batch_tasks", "created", "command", "format"})
_VERSIONED = ("restrl", "torch", "transformers", "tokenizers", "accelerate", "vllm", "openai", "numpy")


class RunStoreError(ValueError):
    """A run directory that cannot be used (config mismatch, unreadable file). One line."""


def folder_kind(root: str | os.PathLike[str]) -> str | None:
    """What made the results folder ``root``: "run", "evaluate", or None when it holds no
    results. A format-1 run (no ``kind``) is a run; a folder with result files but no
    config.json is a format-1 ``evaluate`` output. Raises RunStoreError on a bad config."""
    root = Path(root)
    cfg_path = root / CONFIG
    if cfg_path.exists():
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunStoreError(f"{cfg_path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        if not isinstance(cfg, dict):
            raise RunStoreError(f"{cfg_path}: expected a JSON object")
        return str(cfg.get("kind") or KIND_RUN)
    if (root / ATTEMPTS).exists():  # only runs keep attempts: a run that lost its config
        raise RunStoreError(f"{cfg_path}: missing (the folder holds a run's files without it)")
    if any((root / name).exists() for name in RESULT_FILES):
        return KIND_EVALUATE
    return None


def package_versions() -> dict[str, str | None]:
    """Versions of the packages that can change a result, read without importing them."""
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _canonical(obj: Any) -> Any:
    """JSON round trip, so tuples and lists (and int keys) compare as they are stored."""
    return json.loads(json.dumps(obj, sort_keys=True))


def _first_difference(old: Any, new: Any, path: str = "") -> tuple[str, Any, Any] | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                return sub, old.get(key, "<absent>"), new.get(key, "<absent>")
            diff = _first_difference(old[key], new[key], sub)
            if diff:
                return diff
        return None
    return None if old == new else (path or "<root>", old, new)


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """Complete rows of ``path`` and whether a torn last line (the process died mid-write)
    was dropped; any other bad line means the run directory is damaged."""
    return read_log(path, RunStoreError)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _finite(obj: Any) -> Any:
    """``obj`` with non-finite floats as strings ("inf", "nan"), so every row is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if isinstance(obj, Mapping):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _dumps(row: Mapping[str, Any]) -> str:
    try:
        return json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:  # e.g. a failing test input of float('inf') in a verdict's details
        return json.dumps(_finite(row), ensure_ascii=False, allow_nan=False) + "\n"


class RunStore:
    """One run directory. Open with ``RunStore.open(path, config)``."""

    def __init__(self, root: Path, config: dict[str, Any], attempt: int,
                 finished: dict[str, dict[str, Any]]) -> None:
        self.root = root
        self.config = config
        self.attempt = attempt
        self._finished = finished

    # -- opening and repair -------------------------------------------------------------
    @classmethod
    def open(cls, root: str | os.PathLike[str], config: Mapping[str, Any]) -> RunStore:
        """Create the run directory, or resume it if its config has the same identity.

        Raises RunStoreError naming the first differing field when the directory holds a
        different run.
        """
        root = Path(root)
        new = _canonical({"format": FORMAT_VERSION, **config, "kind": KIND_RUN})
        old = cls.check_compatible(root, new, partial=False)
        root.mkdir(parents=True, exist_ok=True)
        cfg_path = root / CONFIG
        if old is not None:
            config_out = old
        else:
            new.setdefault("created", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
            _write_atomic(cfg_path, json.dumps(new, indent=2, sort_keys=True) + "\n")
            config_out = new
        finished = cls._repair(root)
        attempts, _ = _read_jsonl(root / ATTEMPTS)
        attempt = len(attempts) + 1
        with open(root / ATTEMPTS, "a", encoding="utf-8") as f:
            f.write(_dumps({
                "attempt": attempt,
                "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "finished_before": len(finished),
                "limit": new.get("limit"),
            }))
        if finished:
            log.info("resuming %s: %d task(s) already finished", root, len(finished))
        return cls(root, config_out, attempt, finished)

    @staticmethod
    def check_compatible(root: str | os.PathLike[str], config: Mapping[str, Any], *,
                         partial: bool = True) -> dict[str, Any] | None:
        """Raise RunStoreError if ``root`` holds a run whose identity differs from
        ``config``; return the stored config (None for a new run).

        ``partial=True`` compares only the top-level fields ``config`` gives, so a caller
        can refuse a mismatching directory before paying for a model load.
        """
        cfg_path = Path(root) / CONFIG
        kind = folder_kind(root)
        if kind is None:
            return None
        if kind != KIND_RUN:
            article = "an" if kind[:1] in "aeiou" else "a"
            raise RunStoreError(f"{Path(root)}: this folder holds {article} '{kind}' output, not a run; "
                                f"pass another --out")
        old = json.loads(cfg_path.read_text(encoding="utf-8"))
        old.setdefault("kind", KIND_RUN)
        new = _canonical({"format": FORMAT_VERSION, **config, "kind": KIND_RUN})
        keys = (set(new) if partial else set(old) | set(new)) - NON_IDENTITY_FIELDS
        diff = _first_difference({k: old.get(k, "<absent>") for k in keys},
                                 {k: new.get(k, "<absent>") for k in keys})
        if diff:
            field, was, now = diff
            raise RunStoreError(
                f"{cfg_path}: this directory holds a different run ({field} was {_short(was)}, "
                f"now {_short(now)}); pass another --out or remove it"
            )
        return old

    @staticmethod
    def _repair(root: Path) -> dict[str, dict[str, Any]]:
        """Drop torn lines and the samples of unfinished tasks; return finished verdicts."""
        verdicts, torn = _read_jsonl(root / VERDICTS)
        finished: dict[str, dict[str, Any]] = {}
        for row in verdicts:
            finished.setdefault(row["task_id"], row)  # a duplicate cannot arise; keep the first
        if torn:
            log.warning("%s: dropped a torn last line", root / VERDICTS)
            _write_atomic(root / VERDICTS, "".join(_dumps(r) for r in finished.values()))
        samples, torn = _read_jsonl(root / SAMPLES)
        kept = [r for r in samples if r.get("task_id") in finished]
        if torn or len(kept) != len(samples):
            log.warning("%s: dropped %d sample row(s) of unfinished tasks", root / SAMPLES,
                        len(samples) - len(kept))
            _write_atomic(root / SAMPLES, "".join(_dumps(r) for r in kept))
        return finished

    # -- reading ------------------------------------------------------------------------
    def is_finished(self, task_id: str) -> bool:
        return task_id in self._finished

    def verdict(self, task_id: str) -> dict[str, Any] | None:
        return self._finished.get(task_id)

    @property
    def finished(self) -> Mapping[str, dict[str, Any]]:
        return self._finished

    def samples(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.root / SAMPLES)[0]

    # -- writing ------------------------------------------------------------------------
    def append(self, task_id: str, samples: Sequence[Mapping[str, Any]], verdict: Mapping[str, Any]) -> None:
        """Record one finished task: its samples, then its verdict (the commit), each
        flushed and fsynced, so a crash loses at most the task in flight."""
        if task_id in self._finished:
            raise RunStoreError(f"{self.root}: task {task_id!r} is already finished")
        self._append_lines(self.root / SAMPLES, ({"task_id": task_id, **s} for s in samples))
        row = {"task_id": task_id, **verdict, "attempt": self.attempt}
        self._append_lines(self.root / VERDICTS, [row])
        self._finished[task_id] = _canonical(row)

    @staticmethod
    def _append_lines(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
        text = "".join(_dumps(r) for r in rows)
        if not text:
            return
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def write_summary(self, summary: Mapping[str, Any]) -> Path:
        path = self.root / SUMMARY
        _write_atomic(path, json.dumps(summary, indent=2, sort_keys=True) + "\n")
        return path

    def write_file(self, name: str, text: str) -> Path:
        """Write a whole file of the run directory atomically (eval_results.json)."""
        path = self.root / name
        _write_atomic(path, text)
        return path


def column_passed(row: Mapping[str, Any], column: str) -> bool:
    """Whether a verdict row passes ``column``: the benchmark's own column verdict in
    ``details["columns"]`` when given (evalplus: plus = base and plus tests both pass, as
    evalplus counts it), else ``details[column]`` ("pass" or True), else ``passed``."""
    details = row.get("details") or {}
    columns = details.get("columns")
    if isinstance(columns, Mapping) and column in columns:
        return bool(columns[column])
    if column in details:
        value = details[column]
        return value is True or value == "pass"
    return bool(row.get("passed"))


def _reward(row: Mapping[str, Any]) -> float:
    try:
        return float(row.get("reward", float(bool(row.get("passed")))))
    except (TypeError, ValueError):
        return 0.0


def summarize(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *,
              total_tasks: int | None = None) -> dict[str, Any]:
    """The format-2 summary of one verdict row per task (a run: the chosen program's).

    Pass rates are over the tasks that were judged: a ``skipped`` verdict (the benchmark
    could not run the task, e.g. a missing library) is listed under ``skipped`` and left
    out, never counted as a failure, as ``evaluate`` does. ``mean_reward`` is the mean
    fraction of tests passed (APPS' metric). Costs are summed over every row, skipped
    ones included (they were paid for). ``tasks``/``total_tasks`` keep format 1's names.
    """
    scored = [r for r in rows if r.get("status") != "skipped"]
    n = len(scored)
    passed = {c: sum(column_passed(r, c) for r in scored) for c in columns}
    rate = {c: (passed[c] / n if n else 0.0) for c in columns}
    keys = ("candidates", "scorer_calls", "scorer_tokens", "completion_tokens", "prompt_tokens", "wall_s")
    totals = {k: sum((r.get("cost") or {}).get(k, 0) for r in rows) for k in keys
              if k != "scorer_tokens" or any("scorer_tokens" in (r.get("cost") or {}) for r in rows)}
    totals["wall_s"] = round(totals["wall_s"], 3)
    skipped = _count(str((r.get("details") or {}).get("reason", "skipped")) for r in rows
                     if r.get("status") == "skipped")
    total = total_tasks if total_tasks is not None else len(rows)
    return {
        "format": FORMAT_VERSION,
        "kind": KIND_RUN,
        "columns": list(columns),
        "n_tasks": n,
        "n_tasks_in_benchmark": total,
        "n_samples": len(rows),
        "samples_per_task": {"min": 1 if rows else 0, "max": 1 if rows else 0},
        "pass_at_k": {c: {"pass@1": rate[c]} for c in columns},
        "pass_rate": rate,
        "passed": passed,
        "mean_reward": (sum(_reward(r) for r in scored) / n if n else 0.0),
        "statuses": _count(str(r.get("status")) for r in rows),
        "skipped": skipped,
        "cost": totals,
        "cost_per_task": {k: (v / len(rows) if rows else 0.0) for k, v in totals.items()},
        "tasks": len(rows),
        "total_tasks": total,
    }


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return dict(sorted(out.items()))


def solution_id(bench: str, data_hash: str, task_id: str, solution: str) -> str:
    """Identity of a judgement: same benchmark, data, task and program -> same verdict.
    Verdict rows of runs and of ``evaluate`` carry it, so a row names the program it judged."""
    import hashlib

    blob = json.dumps([bench, data_hash, task_id, solution], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


def eval_results(data_hash: str, judged: Iterable[tuple[str, str, Mapping[str, Any]]],
                 order: Sequence[str], date: str) -> dict[str, Any]:
    """evalplus 0.3.1's ``eval_results.json`` from ``(task_id, solution, verdict row)``
    triples, tasks in benchmark ``order``; runs and ``evaluate`` both write it."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for task_id, solution, rec in judged:
        d = rec.get("details") or {}
        by_task.setdefault(task_id, []).append({
            "task_id": task_id, "solution": solution,
            "base_status": d.get("base", rec.get("status")), "plus_status": d.get("plus"),
            "base_fail_tests": d.get("base_fail_tests", []), "plus_fail_tests": d.get("plus_fail_tests", []),
        })
    return {"date": date, "hash": data_hash, "eval": {t: by_task[t] for t in order if t in by_task}}
