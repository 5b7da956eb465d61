"""The tidy results layer: any run folders, evaluate folders, sweep CSVs and leaderboard
entries as one ``pandas.DataFrame``, one row per judged program.

Why one table: every report (tables, budget curves, leaderboard, regression check) is a
group-by over the same rows, so they cannot disagree about what a run scored. A row is
one task x strategy x budget x seed x benchmark (x sample, for evaluate folders with
several samples per task). Columns (``TIDY_COLUMNS``): where it came from (``source``,
``kind``, ``label``), the setting (``benchmark``, ``data_hash``, ``model``, ``strategy``,
``budget``, ``seed``), the verdict (``task_id``, ``sample_index``, ``solution_id``, ``passed`` = the
benchmark's strictest column, ``pass:<column>`` for every column, ``reward`` = fraction of
tests passed, ``status``, ``chosen``) and every cost the run recorded (``candidates``,
``scorer_calls``, ``scorer_tokens``, ``completion_tokens``, ``prompt_tokens``,
``policy_tokens`` = completion + prompt tokens, ``wall_s``). A cost a folder did not record
(``evaluate`` folders and entries record none; runs before scorer tokens were counted lack
``scorer_tokens``) is missing (NA), never 0.
``skipped`` verdicts (a task the benchmark could not run) are dropped, as the summaries do.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from restrl_eval.report.rundir import ResultsError, ResultsFolder, read_folder, read_json
from restrl_eval.run.store import column_passed

__all__ = ["TIDY_COLUMNS", "load", "load_entry", "load_folder", "load_sweep", "task_scores"]

TIDY_COLUMNS = ("source", "kind", "label", "benchmark", "data_hash", "model", "strategy", "budget", "seed",
                "task_id", "sample_index", "solution_id", "passed", "reward", "status", "chosen", "candidates", "scorer_calls",
                "scorer_tokens", "completion_tokens", "prompt_tokens", "policy_tokens", "wall_s")
_COSTS = ("candidates", "scorer_calls", "scorer_tokens", "completion_tokens", "prompt_tokens", "wall_s")


def _model_name(config: Mapping[str, Any]) -> Any:
    model = config.get("model") or {}
    return model.get("spec") or model.get("model") or model.get("path") if isinstance(model, dict) else model


def _label(folder: ResultsFolder) -> str:
    cfg = folder.config
    if folder.kind == "run":
        name = Path(str(_model_name(cfg) or "model").rstrip("/")).name
        return f"{name} ({(cfg.get('strategy') or {}).get('name')})"
    return folder.path.name


def _folder_rows(folder: ResultsFolder, label: str | None) -> list[dict[str, Any]]:
    cfg, cols = folder.config, folder.columns
    base = {"source": str(folder.path), "kind": folder.kind, "label": label or _label(folder),
            "benchmark": folder.benchmark, "data_hash": folder.data_hash, "model": _model_name(cfg),
            "strategy": (cfg.get("strategy") or {}).get("name"), "budget": cfg.get("budget"), "seed": cfg.get("seed")}
    rows = []
    for v in folder.verdicts:
        if v.get("status") == "skipped":
            continue
        cost = v.get("cost") or {}
        row = {**base, "task_id": v["task_id"], "sample_index": v.get("sample_index", v.get("chosen")),
               "solution_id": v.get("solution_id", v.get("key")),
               "passed": column_passed(v, cols[-1]), "reward": float(v.get("reward", float(bool(v["passed"])))),
               "status": v.get("status"), "chosen": v.get("chosen"),
               **{k: cost.get(k) for k in _COSTS}}
        row["policy_tokens"] = (row["completion_tokens"] + row["prompt_tokens"]
                                if row["completion_tokens"] is not None and row["prompt_tokens"] is not None else None)
        row.update({f"pass:{c}": column_passed(v, c) for c in cols})
        rows.append(row)
    return rows


def _frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    df = pd.DataFrame(rows)
    for col in TIDY_COLUMNS:
        if col not in df.columns:
            df[col] = None
    extra = sorted(c for c in df.columns if c not in TIDY_COLUMNS)
    df = df[[*TIDY_COLUMNS, *extra]]
    for col in (*_COSTS, "policy_tokens", "reward", "budget", "seed"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    return df


def load_folder(path: str | Path, label: str | None = None) -> Any:
    """One run or evaluate folder as tidy rows."""
    return _frame(_folder_rows(read_folder(path), label))


def _sweep_csv(path: Path) -> Path:
    if path.is_dir():
        path = path / "sweep.csv"
    if not path.is_file():
        raise ResultsError(f"{path}: missing")
    return path


def load_sweep(path: str | Path) -> Any:
    """A sweep (its directory or its CSV): the per-task rows of every cell's run folder."""
    csv_path = _sweep_csv(Path(path))
    with open(csv_path, encoding="utf-8", newline="") as f:
        cells = list(csv.DictReader(f))
    if not cells:
        raise ResultsError(f"{csv_path}: no cells")
    rows: list[dict[str, Any]] = []
    for lineno, cell in enumerate(cells, 2):
        run_dir = cell.get("run_dir")
        if not run_dir:
            raise ResultsError(f"{csv_path}:{lineno}: field 'run_dir' is missing")
        where = Path(run_dir)
        if not where.is_dir():  # a sweep moved as a whole: cells/<name> beside the CSV
            moved = csv_path.parent / "cells" / where.name
            where = moved if moved.is_dir() else where
        try:
            rows += _folder_rows(read_folder(where), None)
        except ResultsError as exc:
            raise ResultsError(f"{csv_path}:{lineno}: {exc}") from None
    return _frame(rows)


def load_entry(path: str | Path) -> Any:
    """A leaderboard entry (``results/*.json``) as tidy rows (verdicts only, no costs)."""
    path = Path(path)
    entry = read_json(path)
    try:
        per_task = entry["per_task"]
        cols = list(entry["columns"])
        base = {"source": str(path), "kind": "entry", "label": entry["name"], "benchmark": entry["benchmark"],
                "data_hash": entry["data_hash"], "model": entry.get("model"), "strategy": entry.get("strategy"),
                "budget": entry.get("budget"), "seed": entry.get("seed")}
        rows = []
        for task_id, samples in per_task.items():
            for k, s in enumerate(samples):
                if s["status"] == "skipped":
                    continue
                passes = dict(zip(cols, s["pass"]))
                rows.append({**base, "task_id": task_id, "sample_index": k, "solution_id": s.get("solution_id"),
                             "passed": bool(passes[cols[-1]]),
                             "reward": float(s["reward"]), "status": s["status"],
                             **{f"pass:{c}": bool(v) for c, v in passes.items()}})
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultsError(f"{path}: not a leaderboard entry (field {exc} is missing or malformed)") from None
    return _frame(rows)


def load(paths: Iterable[str | Path], labels: Mapping[str, str] | None = None) -> Any:
    """Any mix of run/evaluate folders, sweep directories or CSVs, and entry JSON files."""
    import pandas as pd

    frames = []
    for p in paths:
        path = Path(p)
        label = (labels or {}).get(str(p))
        if path.suffix == ".csv" or (path.is_dir() and (path / "sweep.csv").is_file()):
            frames.append(load_sweep(path))
        elif path.suffix == ".json" and path.is_file():
            frames.append(load_entry(path))
        else:
            frames.append(load_folder(path, label))
        if label is not None:
            frames[-1]["label"] = label
    if not frames:
        raise ResultsError("no results given")
    return pd.concat(frames, ignore_index=True)


def task_scores(df: Any, by: Sequence[str], value: str = "passed") -> Any:
    """Per-task means of ``value`` (pass@1 estimate when a task has several samples),
    indexed by ``by`` + ``task_id``."""
    return df.groupby([*by, "task_id"], dropna=False)[value].mean().astype(float)
