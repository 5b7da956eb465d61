"""Export a results folder as samples the reference harnesses evaluate as they are.

Why: a restrl number is only as credible as its check by the tool everybody else uses.
``evalplus.evaluate --samples`` and ``bigcodebench.evaluate --samples`` both read JSONL
rows ``{"task_id", "solution"}`` (the full program) and both refuse a file that lacks a
task of the benchmark, so a partial run (``--limit``) is padded with empty solutions,
which fail, unless ``missing="skip"`` (for a reference run on the same subset). The
programs exported are exactly the ones restrl judged (``solution``, format 1: ``code``),
so the reference tool's verdicts can be compared with restrl's own, sample by sample.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restrl_eval.report.rundir import ResultsError, read_folder

__all__ = ["FORMATS", "ExportResult", "export_samples", "export_rows"]

# format -> benchmarks whose task ids and programs that tool evaluates
FORMATS: dict[str, tuple[str, ...]] = {
    "evalplus": ("humaneval", "humaneval+", "mbpp", "mbpp+"),
    "bigcodebench": ("bcb-complete", "bcb-instruct", "bcb-hard-complete", "bcb-hard-instruct"),
}


@dataclass(frozen=True)
class ExportResult:
    """What was written: rows from the folder, padded empty rows, and the command that
    evaluates the file with the reference tool."""

    path: Path
    benchmark: str
    written: int
    padded: int
    tasks: int
    command: str


def _program(row: Mapping[str, Any], where: str) -> str:
    for key in ("solution", "code"):
        if isinstance(row.get(key), str):
            return str(row[key])
    raise ResultsError(f"{where}: field 'solution' is missing")


def export_rows(samples: Iterable[Mapping[str, Any]], verdicts: Iterable[Mapping[str, Any]],
                candidates: str = "chosen", source: str = "samples.jsonl") -> list[dict[str, Any]]:
    """``{"task_id", "solution"}`` rows: for a run, each task's judged (chosen) program, or
    every candidate with ``candidates="all"``; for an evaluate folder, every judged sample.
    Only tasks with a verdict (finished tasks) are exported."""
    judged = {(str(v["task_id"]), v.get("sample_index", v.get("chosen"))) for v in verdicts}
    finished = {tid for tid, _ in judged}
    out = []
    for n, row in enumerate(samples, 1):
        tid = str(row["task_id"])
        if tid not in finished:
            continue
        if candidates == "all" or (tid, row.get("index")) in judged:
            out.append({"task_id": tid, "solution": _program(row, f"{source}:{n}")})
    return out


def export_samples(run_dir: str | os.PathLike[str], fmt: str, out: str | os.PathLike[str], *,
                   candidates: str = "chosen", missing: str = "empty") -> ExportResult:
    """Write ``out`` (JSONL) from the results folder ``run_dir`` in format ``fmt``.

    ``missing``: ``empty`` pads every benchmark task absent from the folder with an empty
    solution (the tools refuse a file that lacks a task); ``skip`` leaves them out."""
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if candidates not in ("chosen", "all"):
        raise ValueError(f"--candidates {candidates!r}: expected chosen or all")
    if missing not in ("empty", "skip"):
        raise ValueError(f"--missing {missing!r}: expected empty or skip")
    folder = read_folder(run_dir)
    bench = folder.benchmark
    if bench not in FORMATS[fmt]:
        raise ValueError(f"--format {fmt}: {folder.path} holds benchmark {bench!r}; {fmt} evaluates "
                         f"{', '.join(FORMATS[fmt])}")
    rows = export_rows(folder.samples(), folder.verdicts, candidates, str(folder.path / "samples.jsonl"))
    order = _task_ids(bench, folder.config)
    known = set(order)
    strange = sorted({r["task_id"] for r in rows} - known)
    if strange:
        raise ResultsError(f"{folder.path}: task {strange[0]!r} is not in benchmark {bench!r}")
    present = {r["task_id"] for r in rows}
    pads = [{"task_id": t, "solution": ""} for t in order if t not in present] if missing == "empty" else []
    rank = {t: i for i, t in enumerate(order)}
    rows = sorted(rows + pads, key=lambda r: rank[r["task_id"]])  # stable: candidates keep their order
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, path)
    return ExportResult(path, bench, len(rows) - len(pads), len(pads), len(present), _command(fmt, bench, path))


def _task_ids(bench: str, config: Mapping[str, Any]) -> list[str]:
    from restrl_eval.benchmarks import get_benchmark

    options = dict((config.get("benchmark") or {}).get("options") or {})
    return [t.task_id for t in get_benchmark(bench, **options).tasks()]


def _command(fmt: str, bench: str, path: Path) -> str:
    if fmt == "evalplus":
        return f"evalplus.evaluate --dataset {bench.rstrip('+')} --samples {path}"
    split = "instruct" if bench.endswith("instruct") else "complete"
    subset = "hard" if "-hard-" in bench else "full"
    return f"bigcodebench.evaluate --split {split} --subset {subset} --samples {path}"
