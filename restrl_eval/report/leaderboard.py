"""The leaderboard: committed results, one small JSON entry per result, and the README
table rendered from them.

Why entries and not run folders: a run folder holds every candidate and verdict detail
(megabytes); an entry keeps what a reader and the regression check need (the summary,
each task's verdict, the config, the data hash, the restrl version, the machine and how
it was made), small enough to commit and to diff in review.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from restrl_eval.report.rundir import ResultsError, ResultsFolder, read_json
from restrl_eval.run.store import column_passed

__all__ = ["ENTRY_FORMAT", "README_BEGIN", "README_END", "entry_rows", "load_entries", "make_entry",
           "render", "render_readme", "write_entry"]

ENTRY_FORMAT = 1
README_BEGIN, README_END = "<!-- leaderboard:begin -->", "<!-- leaderboard:end -->"
_SUMMARY_KEYS = ("n_tasks", "n_tasks_in_benchmark", "n_samples", "pass_rate", "pass_at_k", "mean_reward",
                 "statuses", "skipped", "cost_per_task")


def _machine() -> dict[str, Any]:
    return {"system": platform.system(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version()}


def _version(config: Mapping[str, Any]) -> str | None:
    recorded = (config.get("versions") or {}).get("restrl")
    if recorded:
        return str(recorded)
    try:
        return metadata.version("restrl")
    except metadata.PackageNotFoundError:
        return None


def make_entry(folder: ResultsFolder, name: str, made_by: str, note: str = "", *, model: str | None = None,
               strategy: str | None = None) -> dict[str, Any]:
    """A leaderboard entry for a finished run or evaluate folder. ``model``/``strategy``
    name what made an evaluate folder's samples (a run records its own)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name):
        raise ResultsError(f"entry name {name!r}: use letters, digits and . _ + - only")
    cfg, s, cols = folder.config, folder.summary, folder.columns
    per_task: dict[str, list[dict[str, Any]]] = {}
    for v in sorted(folder.verdicts, key=lambda r: (str(r["task_id"]), int(r.get("sample_index") or 0))):
        per_task.setdefault(str(v["task_id"]), []).append(
            {"pass": [column_passed(v, c) for c in cols], "reward": round(float(v.get("reward", 0.0)), 6),
             "status": v.get("status"), "solution_id": v.get("solution_id", v.get("key"))})
    recorded = cfg.get("model") or {}
    recorded = (recorded.get("spec") or recorded.get("path")) if isinstance(recorded, dict) else recorded
    return {
        "format": ENTRY_FORMAT, "name": name, "made_by": made_by, "note": note,
        "kind": folder.kind, "benchmark": folder.benchmark, "data_hash": folder.data_hash, "columns": cols,
        "strategy": strategy or (cfg.get("strategy") or {}).get("name"), "budget": cfg.get("budget"),
        "seed": cfg.get("seed"), "model": model or recorded,
        "summary": {k: s[k] for k in _SUMMARY_KEYS if k in s},
        "config": dict(cfg), "restrl_version": _version(cfg), "machine": _machine(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "per_task": per_task,
    }


def write_entry(entry: Mapping[str, Any], results_dir: str | Path) -> Path:
    """``<results_dir>/<name>.json`` (replaced atomically)."""
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{entry['name']}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(entry, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_entries(results_dir: str | Path) -> list[dict[str, Any]]:
    """Every entry under ``results_dir`` (sorted by file name); a bad one is an error naming it."""
    root = Path(results_dir)
    if not root.is_dir():
        raise ResultsError(f"{root}: no such results directory")
    entries = []
    for path in sorted(root.glob("*.json")):
        entry = read_json(path)
        missing = [k for k in ("name", "benchmark", "data_hash", "columns", "summary", "per_task", "made_by")
                   if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise ResultsError(f"{path}: not a leaderboard entry (field {missing[0]!r} is missing)")
        entries.append(entry)
    return entries


def entry_rows(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One display row per entry: pass@1 of the strictest column, the others, mean reward."""
    rows = []
    for e in sorted(entries, key=lambda e: (str(e["benchmark"]), -float(_strict(e)), str(e["name"]))):
        s = e["summary"]
        cols = list(e["columns"])
        rate = s.get("pass_rate") or {}
        rows.append({
            "entry": e["name"], "benchmark": e["benchmark"], "model": e.get("model") or "–",
            "strategy": e.get("strategy") or e.get("kind") or "–",
            "tasks": f"{s.get('n_tasks')}/{s.get('n_tasks_in_benchmark')}",
            "pass@1": f"{_strict(e):.3f}",
            "columns": ", ".join(f"{c} {rate.get(c, float('nan')):.3f}" for c in cols) if len(cols) > 1 else "",
            "mean reward": f"{float(s.get('mean_reward', float('nan'))):.3f}",
            "data": str(e["data_hash"])[:12], "restrl": e.get("restrl_version") or "–",
        })
    return rows


def _strict(entry: Mapping[str, Any]) -> float:
    cols = list(entry["columns"])
    return float((entry["summary"].get("pass_rate") or {}).get(cols[-1], float("nan")))


def render(entries: Sequence[Mapping[str, Any]], fmt: str = "md") -> str:
    """The leaderboard table (md, csv, html or latex)."""
    import pandas as pd
    from tabulate import tabulate

    rows = entry_rows(entries)
    if fmt == "csv":
        return str(pd.DataFrame(rows).to_csv(index=False))
    styles = {"md": "github", "html": "html", "latex": "latex_booktabs"}
    if fmt not in styles:
        raise ResultsError(f"unknown format {fmt!r} (known: md, csv, html, latex)")
    return str(tabulate([list(r.values()) for r in rows], headers=list(rows[0]) if rows else [],
                        tablefmt=styles[fmt], disable_numparse=True))


def render_readme(entries: Sequence[Mapping[str, Any]], intro: str) -> str:
    """results/README.md: ``intro``, the table between markers, then how each was made."""
    made = "".join(f"- **{e['name']}** ({e.get('machine', {}).get('machine', '?')}, "
                   f"{e.get('machine', {}).get('cpus', '?')} CPUs, restrl {e.get('restrl_version') or '?'}): "
                   f"{e['made_by']}" + (f" {e['note']}" if e.get("note") else "") + "\n"
                   for e in sorted(entries, key=lambda e: str(e["name"])))
    return (f"{intro.rstrip()}\n\n{README_BEGIN}\n{render(entries, 'md')}\n\n### How each entry was made\n\n"
            f"{made}{README_END}\n")
