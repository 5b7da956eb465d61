"""Read APPS from a ``datasets`` cache or export (parquet/arrow files, ``save_to_disk``).

Why separate: ``datasets`` is an optional dependency (the ``apps`` extra); only users
whose copy of APPS is in this form need it, and everything else stays importable
without it.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from restrl_eval.benchmarks.apps.problem import AppsProblem, difficulty_of_test_id, from_hf_row, from_restrl_row, id_of
from restrl_eval.benchmarks.base import BenchmarkError

__all__ = ["read_datasets", "data_files"]

Selector = Callable[[Any, "str | None"], bool]


def data_files(path: Path) -> list[Path]:
    return sorted(p for ext in ("*.parquet", "*.arrow") for p in path.rglob(ext))


def _import_datasets(path: Path):
    try:
        import datasets  # noqa: PLC0415  (optional dependency)
    except ImportError:
        raise BenchmarkError(f"{path}: reading parquet/arrow APPS files needs the `datasets` package: "
                             "pip install 'restrl[apps]' (or pip install datasets)") from None
    datasets.disable_progress_bars()
    return datasets


def _load_dataset(path: Path, split: str):
    datasets = _import_datasets(path)
    if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            if split not in ds:
                raise BenchmarkError(f"{path}: no split {split!r} (has {', '.join(ds)})")
            ds = ds[split]
        return ds
    if path.is_file():
        files = [path]  # a file named by the user is used as it is
    else:
        files = data_files(path)
        named = [f for f in files if split in f.relative_to(path).as_posix()]
        if named:
            files = named
        elif any(s in f.relative_to(path).as_posix() for f in files for s in ("train", "test")):
            raise BenchmarkError(f"{path}: no {split!r} files among the parquet/arrow files")
    parts = [_read_parquet(datasets, f) if f.suffix == ".parquet" else datasets.Dataset.from_file(str(f))
             for f in files]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def _read_parquet(datasets: Any, f: Path) -> Any:
    """A parquet file as a Dataset, without its ``solutions`` column (most of APPS' bytes)
    and without ``Dataset.from_parquet``, which would write a copy into the HF cache."""
    import pyarrow.parquet as pq  # noqa: PLC0415  (comes with datasets)

    names = pq.read_schema(str(f)).names
    table = pq.read_table(str(f), columns=[c for c in names if c != "solutions"])
    return datasets.Dataset(datasets.table.InMemoryTable(table))


def read_datasets(path: Path, split: str, keep: Selector) -> dict[Any, AppsProblem]:
    ds = _load_dataset(path, split)
    cols = set(ds.column_names)
    kind = "hf-jsonl" if {"question", "input_output"} <= cols else "restrl" if {"prompt", "test"} <= cols else None
    if kind is None:
        raise BenchmarkError(f"{path}: not APPS data: columns {sorted(cols)[:8]}")
    id_key, build = ("problem_id", from_hf_row) if kind == "hf-jsonl" else ("id", from_restrl_row)
    meta = ds.select_columns([c for c in (id_key, "difficulty") if c in cols])
    picked = []
    for i, row in enumerate(meta):
        pid = id_of(row[id_key])
        if keep(pid, row.get("difficulty") or difficulty_of_test_id(pid)):
            picked.append(i)
    out: dict[Any, AppsProblem] = {}
    wanted = [c for c in cols if c != "solutions"]
    for i, row in zip(picked, ds.select(picked).select_columns(wanted)):
        p = build(row, f"{path}[{i}]")
        out[p.problem_id] = p
    return out
