"""Load and validate scorer training records (JSONL) into frozen ``Record`` values.

Accepted record kinds (one JSON object per line; ``task`` rows are commit marks and are
skipped):

| kind | written by | required fields | target |
|---|---|---|---|
| ``node`` | ``collect-values`` | task_id, problem, state, value, visits | MC value of the partial program |
| ``program`` | ``collect-values`` | task_id, problem, state, value | execution reward of the program |
| ``outcome`` | ``collect-outcomes`` | task_id, problem, code, reward, passed | execution reward |
| ``step`` | ``step_labels`` (PRM) | task_id, problem, state, value | MC estimate from the prefix |

Why strict: a NaN or a string where a number belongs would otherwise surface as a NaN
loss hundreds of steps later; every bad line is a one-line ``FILE:LINE: field 'x' ...``
error instead. Why the sidecar: ``collect-values`` and ``collect-outcomes`` write their
settings beside the records (``<file>.meta.json``); it names the benchmark (for the
evaluation-set warning) and which text fills ``problem`` (``raw`` problem statement or
the policy ``prompt``).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restrl_eval.jsonl import iter_jsonl

__all__ = [
    "EVAL_BENCHMARK_PREFIXES",
    "DataError",
    "DataFile",
    "LoadedData",
    "Record",
    "eval_benchmark_names",
    "eval_data_warning",
    "load_records",
]

KINDS = ("node", "program", "outcome", "step")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "node": ("task_id", "problem", "state", "value", "visits"),
    "program": ("task_id", "problem", "state", "value"),
    "outcome": ("task_id", "problem", "code", "reward", "passed"),
    "step": ("task_id", "problem", "state", "value"),
}
EVAL_BENCHMARK_PREFIXES = ("apps500", "apps-intro", "apps-interview", "apps-competition", "apps-full",
                           "humaneval", "mbpp", "bcb-", "mini-test")
"""Benchmark names (prefixes) that are evaluation sets: training on them is flagged."""
_EVAL_TASK_PREFIXES = {"HumanEval/": "humaneval", "Mbpp/": "mbpp", "BigCodeBench/": "bcb-*"}


class DataError(ValueError):
    """A bad training data file; the message is one line naming the file and line."""


@dataclass(frozen=True)
class Record:
    """One training example: ``code`` (a partial or complete program) of ``task_id``
    with its target in [0, 1]. ``passed`` is set for complete programs only."""

    task_id: str
    kind: str
    problem: str
    code: str
    target: float
    passed: bool | None
    visits: int
    where: str  # FILE:LINE, for error messages


@dataclass(frozen=True)
class DataFile:
    """A loaded file: its content hash and what its sidecar said."""

    path: str
    sha256: str
    records: int
    bench: str | None
    problem_field: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "records": self.records, "bench": self.bench,
                "problem_field": self.problem_field}


@dataclass(frozen=True)
class LoadedData:
    records: tuple[Record, ...]
    files: tuple[DataFile, ...]
    problem_field: str
    eval_benchmarks: tuple[str, ...]

    @property
    def warning(self) -> str | None:
        """The loud evaluation-set warning, or None."""
        return eval_data_warning(self.eval_benchmarks)


def eval_data_warning(names: Sequence[str], what: str = "training data") -> str | None:
    """The one wording of the evaluation-set warning (collectors and trainers alike), or
    None when ``names`` is empty."""
    if not names:
        return None
    joined = ", ".join(names)
    return (f"{what} comes from evaluation benchmark(s) {joined}: a scorer or policy trained on it "
            f"must not be reported on {joined} (use a training split such as apps-train, mini-train "
            f"or a --tasks file)")


def eval_benchmark_names(bench: str | None, task_ids: Iterable[str] = ()) -> list[str]:
    """Evaluation benchmarks the data comes from: by the benchmark's name when there is
    one (a named training split wins over id prefixes), else, and for a task file (benchmark
    ``tasks``, which may hold any problems), by the task-id prefixes of the well-known
    evaluation sets (HumanEval/, Mbpp/, BigCodeBench/)."""
    if bench and bench != "tasks":
        return [bench] if bench.lower().startswith(EVAL_BENCHMARK_PREFIXES) else []
    found = {name for tid in task_ids for pre, name in _EVAL_TASK_PREFIXES.items() if tid.startswith(pre)}
    return sorted(found)


def _sidecar(path: Path) -> dict[str, Any]:
    meta = path.with_name(path.name + ".meta.json")
    if not meta.is_file():
        return {}
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{meta}:1: not valid JSON ({exc})") from None
    return data if isinstance(data, dict) else {}


def _file_problem_field(meta: Mapping[str, Any]) -> str:
    """Which text the records' ``problem`` holds: ``collect-values`` (an ``mcts`` block
    without ``problem_field``) stored the policy prompt; others say so or hold raw text."""
    if "problem_field" in meta:
        return str(meta["problem_field"])
    return "prompt" if "mcts" in meta else "raw"


def _number(row: Mapping[str, Any], key: str, where: str, lo: float | None = 0.0, hi: float | None = 1.0) -> float:
    v = row[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DataError(f"{where}: field '{key}' must be a number (got {json.dumps(v)[:40]})")
    if not math.isfinite(v):
        raise DataError(f"{where}: field '{key}' is {v} (must be finite)")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise DataError(f"{where}: field '{key}' must be within [{lo}, {hi}] (got {v})")
    return float(v)


def _text(row: Mapping[str, Any], key: str, where: str) -> str:
    v = row[key]
    if not isinstance(v, str):
        raise DataError(f"{where}: field '{key}' must be a string (got {type(v).__name__})")
    return v


def _problem(row: Mapping[str, Any], file_field: str, want: str, where: str) -> str:
    if want in ("auto", file_field):
        return _text(row, "problem", where)
    alt = "prompt" if want == "prompt" else "raw_problem"
    if alt in row:
        return _text(row, alt, where)
    raise DataError(f"{where}: field '{alt}' missing: this file's 'problem' is the {file_field} text, "
                    f"and the {want} text was asked for (--problem-field)")


def parse_record(row: Any, where: str, file_field: str = "raw", want: str = "auto") -> Record | None:
    """One validated record, or None for a ``task`` commit row."""
    if not isinstance(row, dict):
        raise DataError(f"{where}: a record must be a JSON object")
    kind = row.get("kind", "program" if "code" not in row else "outcome")
    if kind == "task":
        return None
    if kind not in _REQUIRED:
        raise DataError(f"{where}: field 'kind' is {json.dumps(kind)[:40]} (known: {', '.join(KINDS)}, task)")
    for key in _REQUIRED[kind]:
        if key not in row:
            raise DataError(f"{where}: field '{key}' missing (a {kind} record needs {', '.join(_REQUIRED[kind])})")
    task_id = _text(row, "task_id", where)
    problem = _problem(row, file_field, want, where)
    if kind == "outcome":
        code, target = _text(row, "code", where), _number(row, "reward", where)
        if not isinstance(row["passed"], bool):
            raise DataError(f"{where}: field 'passed' must be true or false (got {json.dumps(row['passed'])[:40]})")
        passed: bool | None = row["passed"]
    else:
        code, target = _text(row, "state", where), _number(row, "value", where)
        passed = (target >= 1.0) if kind == "program" else None
        if kind == "program" and isinstance(row.get("passed"), bool):
            passed = row["passed"]
    visits = int(_number(row, "visits", where, 1.0, None)) if "visits" in row else 1
    return Record(task_id, kind, problem, code, target, passed, visits, where)


def _read_file(path: Path, want: str) -> tuple[list[Record], DataFile]:
    meta = _sidecar(path)
    field = _file_problem_field(meta)
    records: list[Record] = []
    last = 0
    for lineno, row in iter_jsonl(path, DataError):
        last = lineno
        rec = parse_record(row, f"{path}:{lineno}", field, want)
        if rec is not None:
            records.append(rec)
    if not records:
        raise DataError(f"{path}:{last or 1}: empty file: no training records")
    bench = meta.get("bench") if isinstance(meta.get("bench"), str) else None
    info = DataFile(str(path), hashlib.sha256(path.read_bytes()).hexdigest(), len(records), bench, field)
    return records, info


def load_records(paths: Sequence[str | Path], problem_field: str = "auto") -> LoadedData:
    """Read and validate every file. ``problem_field`` ``auto`` takes each file's
    ``problem`` as it is (all files must agree); ``raw``/``prompt`` demand that text."""
    if problem_field not in ("auto", "raw", "prompt"):
        raise DataError(f"problem_field {problem_field!r}: use auto, raw or prompt")
    if not paths:
        raise DataError("no data files given (--data FILE)")
    records: list[Record] = []
    files: list[DataFile] = []
    for p in paths:
        recs, info = _read_file(Path(p), problem_field)
        records.extend(recs)
        files.append(info)
    fields = sorted({f.problem_field for f in files})
    if problem_field == "auto" and len(fields) > 1:
        raise DataError(f"{files[0].path}: data files hold different problem texts ({' vs '.join(fields)}); "
                        f"pass --problem-field raw or prompt")
    used = fields[0] if problem_field == "auto" else problem_field
    evals: set[str] = set()
    for f in files:
        ids = (r.task_id for r in records if r.where.startswith(f.path + ":"))
        evals.update(eval_benchmark_names(f.bench, ids))
    return LoadedData(tuple(records), tuple(files), used, tuple(sorted(evals)))
