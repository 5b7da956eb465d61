"""The training records of ``restrl-train sft``: from a JSONL file or a benchmark split.

Why both: the tiny policy trains on a generated benchmark split (``mini-train``), while
a user fine-tunes on their own ``{prompt, solution}`` file; both become the same frozen
records. A bad file is refused with one line naming the file, the line and the field.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from restrl_eval.jsonl import iter_jsonl

__all__ = ["Record", "SFTDataError", "load_records"]


class SFTDataError(ValueError):
    """Bad training data: a one-line message naming file, line and field."""


@dataclass(frozen=True)
class Record:
    """One example: the model reads ``prompt`` and learns to write ``solution`` then EOS."""

    prompt: str
    solution: str


def _from_jsonl(path: Path, limit: int) -> list[Record]:
    out: list[Record] = []
    for lineno, row in iter_jsonl(path, SFTDataError):
        for key in ("prompt", "solution"):
            if key not in row:
                raise SFTDataError(f"{path}:{lineno}: field {key!r} is missing")
            if not isinstance(row[key], str):
                raise SFTDataError(f"{path}:{lineno}: field {key!r} must be a string, "
                                   f"not {type(row[key]).__name__}")
        if not row["solution"].strip():
            raise SFTDataError(f"{path}:{lineno}: field 'solution' is empty")
        out.append(Record(row["prompt"], row["solution"]))
        if limit and len(out) >= limit:
            break
    if not out:
        raise SFTDataError(f"{path}: no records")
    return out


def _from_benchmark(name: str, limit: int) -> list[Record]:
    from restrl_eval.benchmarks import BenchmarkError, benchmark_names, get_benchmark

    if name not in benchmark_names():
        raise SFTDataError(f"--data {name}: no such file, and not a benchmark ({', '.join(benchmark_names())})")
    try:
        bench = get_benchmark(name)
        tasks = bench.tasks()
    except (BenchmarkError, OSError) as exc:
        raise SFTDataError(f"--data {name}: {exc}") from None
    tasks = tasks[:limit] if limit else tasks
    missing = [t.task_id for t in tasks if not isinstance((t.data or {}).get("solution"), str)]
    if missing:
        raise SFTDataError(f"--data {name}: task {missing[0]} has no reference 'solution' to train on")
    return [Record(bench.prompt(t, "completion"), t.data["solution"]) for t in tasks]


def load_records(data: str, limit: int = 0) -> list[Record]:
    """Records from a JSONL file (when ``data`` is a path that exists or ends in .jsonl) or
    from a benchmark's tasks (completion prompt, reference solution)."""
    path = Path(data).expanduser()
    if path.exists() or data.endswith((".jsonl", ".json")):
        return _from_jsonl(path, limit)
    return _from_benchmark(data, limit)
