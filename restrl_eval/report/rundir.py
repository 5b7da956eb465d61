"""Read one results folder (a run, a sweep cell or an ``evaluate`` output), validated.

Why a reader of its own: every report command (show, table, plot, leaderboard, check)
must trust what it reads or say in one line what is wrong. A folder left by a killed
run has no summary.json and may end in a torn line; a folder copied by hand may lack a
file. Each is an error naming the file (and line), never a traceback or a silently
short table. Formats 1 and 2 are both read (``restrl_eval/run/SCHEMA.md``).
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restrl_eval.run.store import (
    CONFIG,
    KIND_EVALUATE,
    KIND_RUN,
    SAMPLES,
    SUMMARY,
    VERDICTS,
    RunStoreError,
    folder_kind,
)

__all__ = ["ResultsError", "ResultsFolder", "read_folder", "read_json", "read_jsonl"]


class ResultsError(ValueError):
    """A results folder or file that cannot be read. ``str()`` is one line naming it."""


def read_json(path: Path) -> Any:
    """A whole JSON file, or ResultsError naming it (missing, empty or invalid)."""
    if not path.is_file():
        raise ResultsError(f"{path}: missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}); the file is torn or damaged") \
            from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read ({exc})") from None


def read_jsonl(path: Path, required: tuple[str, ...] = ("task_id",)) -> list[dict[str, Any]]:
    """Every row of a JSONL file; a torn last line, a bad line or a row without a
    ``required`` field is a ResultsError naming the file and line."""
    if not path.is_file():
        raise ResultsError(f"{path}: missing")
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            if not line.endswith("\n"):
                raise ResultsError(f"{path}:{lineno}: torn last line (the writer was interrupted; rerun its "
                                   f"command to repair and finish it)")
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise ResultsError(f"{path}:{lineno}: not valid JSON") from None
            if not isinstance(row, dict):
                raise ResultsError(f"{path}:{lineno}: expected a JSON object")
            for name in required:
                if name not in row:
                    raise ResultsError(f"{path}:{lineno}: field {name!r} is missing")
            rows.append(row)
    return rows


@dataclass(frozen=True)
class ResultsFolder:
    """A validated results folder: its config, summary and verdict rows."""

    path: Path
    kind: str
    config: Mapping[str, Any]
    summary: Mapping[str, Any]
    verdicts: list[dict[str, Any]] = field(repr=False)

    @property
    def benchmark(self) -> str:
        return str(self.summary.get("benchmark") or (self.config.get("benchmark") or {}).get("name") or "")

    @property
    def data_hash(self) -> str:
        return str(self.summary.get("data_hash") or (self.config.get("benchmark") or {}).get("data_hash") or "")

    @property
    def columns(self) -> list[str]:
        cols = self.summary.get("columns") or (self.config.get("benchmark") or {}).get("columns")
        return list(cols or self.summary.get("pass_rate") or self.summary.get("pass_at_k") or ["pass"])

    def samples(self) -> list[dict[str, Any]]:
        """samples.jsonl rows (read on demand: a run's candidates can be many)."""
        return read_jsonl(self.path / SAMPLES)


def read_folder(path: str | os.PathLike[str]) -> ResultsFolder:
    """Open a finished results folder; every problem is a one-line ResultsError."""
    root = Path(path)
    if not root.is_dir():
        raise ResultsError(f"{root}: no such results folder")
    try:
        kind = folder_kind(root)
    except RunStoreError as exc:
        raise ResultsError(str(exc)) from None
    if kind is None:
        raise ResultsError(f"{root / CONFIG}: missing (not a run or evaluate folder)")
    if kind not in (KIND_RUN, KIND_EVALUATE):
        raise ResultsError(f"{root / CONFIG}: unknown kind {kind!r}")
    config = read_json(root / CONFIG) if (root / CONFIG).exists() else {"kind": kind}
    verdicts = read_jsonl(root / VERDICTS, ("task_id", "passed"))
    if not (root / SUMMARY).exists():
        raise ResultsError(f"{root / SUMMARY}: missing (the run did not finish; rerun its command to finish it)")
    summary = read_json(root / SUMMARY)
    if not isinstance(summary, dict) or not isinstance(config, dict):
        raise ResultsError(f"{root / SUMMARY}: expected a JSON object")
    if not (root / SAMPLES).exists() and kind == KIND_RUN:
        raise ResultsError(f"{root / SAMPLES}: missing")
    return ResultsFolder(root, kind, config, summary, verdicts)
