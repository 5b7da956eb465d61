"""Read a user's local copy of APPS, in whichever form they have it.

Why a loader and no download: APPS is only published on the Hugging Face hub (and as
the original release archive), which restrl cannot reach or redistribute, so every APPS
benchmark reads a copy the user points at (``apps_path=`` / ``--apps-path`` /
``RESTRL_APPS_PATH``). Users hold it in four shapes, all accepted:

* ``hf-jsonl``: rows of the Hugging Face ``codeparrot/apps`` dataset (``test.jsonl``, or
  a directory holding ``test.jsonl``/``train.jsonl``, ``.json`` lists and ``.gz`` too);
* ``datasets``: a ``datasets`` cache or export — ``.parquet``/``.arrow`` files, or a
  ``save_to_disk`` directory — read with the ``datasets`` package (optional extra);
* ``release``: the original APPS release tree, ``test/NNNN/{question.txt,
  input_output.json, starter_code.py, metadata.json}``;
* ``restrl``: the ReST-RL data files (``{id, prompt, code, test}`` rows, ``test`` a
  stringified input/output dict), e.g. the authors' ``test_500.jsonl``.

Every shape becomes the same ``AppsProblem`` records, and ``content_hash`` hashes their
content (not the file bytes), so the same problems read from two shapes hash alike.
Only the problems asked for are parsed in full: the test split is over 1 GB.
"""
from __future__ import annotations

import gzip
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from restrl_eval.benchmarks.apps.datasets import data_files, read_datasets
from restrl_eval.benchmarks.apps.problem import (
    AppsProblem,
    difficulty_of_test_id,
    from_hf_row,
    from_restrl_row,
    id_of,
    need,
    parse_tests,
)
from restrl_eval.benchmarks.base import BenchmarkError

__all__ = ["ENV_APPS_PATH", "HOW_TO_GET", "LAYOUTS", "AppsProblem", "detect_layout", "load_problems",
           "resolve_apps_path"]

log = logging.getLogger(__name__)

ENV_APPS_PATH = "RESTRL_APPS_PATH"
LAYOUTS = ("hf-jsonl", "datasets", "release", "restrl")
HOW_TO_GET = (
    "download APPS (Hugging Face dataset codeparrot/apps, e.g. its test.jsonl, or the original release "
    "from https://github.com/hendrycks/apps) and pass --apps-path PATH (option apps_path=PATH) "
    f"or set {ENV_APPS_PATH}=PATH"
)
_RESTRL_FILES = ("test_500.jsonl", "data_with_test.jsonl")

Selector = Callable[[Any, "str | None"], bool]  # (problem_id, difficulty) -> keep?


def resolve_apps_path(apps_path: str | os.PathLike[str] | None) -> Path:
    """The path from the option or the environment; a one-line error when neither is set
    or the path does not exist."""
    raw = apps_path or os.environ.get(ENV_APPS_PATH)
    if not raw:
        raise BenchmarkError(f"no APPS copy given: {HOW_TO_GET}")
    path = Path(raw).expanduser()
    if not path.exists():
        raise BenchmarkError(f"{path}: APPS path does not exist; {HOW_TO_GET}")
    return path


# ---------------------------------------------------------------------------------------
# layout detection
# ---------------------------------------------------------------------------------------
def _is_problem_dir(d: Path) -> bool:
    return d.is_dir() and d.name.isdigit() and (d / "question.txt").is_file()


def _release_root(path: Path, split: str) -> Path | None:
    for cand in (path / split, path / "APPS" / split, path):
        if cand.is_dir() and any(_is_problem_dir(d) for d in _first_entries(cand)):
            return cand
    return None


def _first_entries(d: Path, n: int = 200) -> list[Path]:
    out = []
    for i, entry in enumerate(sorted(d.iterdir())):
        if i >= n:
            break
        out.append(entry)
    return out


def _row_file_kind(path: Path) -> str:
    """``hf-jsonl`` or ``restrl``, from the keys of the file's first row."""
    for lineno, row in _iter_rows(path):
        keys = set(row)
        if {"question", "input_output"} <= keys:
            return "hf-jsonl"
        if {"prompt", "test"} <= keys:
            return "restrl"
        raise BenchmarkError(
            f"{path}:{lineno}: not an APPS row: expected the fields question+input_output "
            f"(codeparrot/apps) or id+prompt+code+test (ReST-RL), got {sorted(keys)[:8]}")
    raise BenchmarkError(f"{path}: file holds no rows")


def detect_layout(path: Path, split: str = "test") -> tuple[str, Path]:
    """(layout, the file or directory to read). One-line error when nothing fits."""
    if path.is_file():
        name = path.name.lower()
        if name.endswith((".parquet", ".arrow")):
            return "datasets", path
        if name.endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz")):
            return _row_file_kind(path), path
        raise BenchmarkError(f"{path}: unknown APPS file type (want .jsonl, .json, .parquet or .arrow)")
    for name in (f"{split}.jsonl", f"{split}.jsonl.gz", f"{split}.json"):
        if (path / name).is_file():
            return _row_file_kind(path / name), path / name
    root = _release_root(path, split)
    if root is not None:
        return "release", root
    if (path / "dataset_dict.json").is_file() or (path / "state.json").is_file() or data_files(path):
        return "datasets", path
    for name in _RESTRL_FILES:
        if (path / name).is_file():
            return _row_file_kind(path / name), path / name
    raise BenchmarkError(
        f"{path}: no APPS data found (looked for {split}.jsonl, {split}/NNNN/question.txt, "
        f"*.parquet/*.arrow, {' or '.join(_RESTRL_FILES)})")


# ---------------------------------------------------------------------------------------
# readers: each parses in full only the problems ``keep`` accepts
# ---------------------------------------------------------------------------------------
def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _iter_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) of a .jsonl file, or (index + 1, row) of a .json list."""
    is_list = path.name.lower().endswith((".json", ".json.gz"))
    with _open_text(path) as f:
        if is_list:
            try:
                data = json.load(f)
            except ValueError as exc:
                raise BenchmarkError(f"{path}: invalid JSON: {exc}") from None
            if not isinstance(data, list):
                raise BenchmarkError(f"{path}: expected a JSON list of rows")
            rows: Iterable[tuple[int, Any]] = enumerate(data, 1)
        else:
            rows = ((n, line) for n, line in enumerate(f, 1) if line.strip())
        for n, item in rows:
            if isinstance(item, str):
                try:
                    item = json.loads(item)
                except ValueError as exc:
                    raise BenchmarkError(f"{path}:{n}: invalid JSON: {exc}") from None
            if not isinstance(item, dict):
                raise BenchmarkError(f"{path}:{n}: expected a JSON object")
            yield n, item


def _read_rows(path: Path, kind: str, keep: Selector) -> dict[Any, AppsProblem]:
    id_key, build = ("problem_id", from_hf_row) if kind == "hf-jsonl" else ("id", from_restrl_row)
    out: dict[Any, AppsProblem] = {}
    for n, row in _iter_rows(path):
        where = f"{path}:{n}"
        pid = id_of(need(row, id_key, where))
        diff = row.get("difficulty") or difficulty_of_test_id(pid)
        if not keep(pid, diff):
            continue
        if pid in out:
            raise BenchmarkError(f"{where}: duplicate problem id {pid}")
        out[pid] = build(row, where)
    return out


def _read_release(root: Path, keep: Selector) -> dict[Any, AppsProblem]:
    out: dict[Any, AppsProblem] = {}
    for d in sorted(root.iterdir()):
        if not _is_problem_dir(d):
            continue
        pid = int(d.name)
        meta: dict[str, Any] = {}
        if (d / "metadata.json").is_file():
            try:
                meta = json.loads((d / "metadata.json").read_text(encoding="utf-8"))
            except ValueError as exc:
                raise BenchmarkError(f"{d / 'metadata.json'}: invalid JSON: {exc}") from None
        diff = meta.get("difficulty") or difficulty_of_test_id(pid)
        if not keep(pid, diff):
            continue
        io_file = d / "input_output.json"
        tests = parse_tests(io_file.read_text(encoding="utf-8") if io_file.is_file() else "",
                             str(io_file), "input_output")
        starter = d / "starter_code.py"
        out[pid] = AppsProblem(pid, (d / "question.txt").read_text(encoding="utf-8"),
                               starter.read_text(encoding="utf-8") if starter.is_file() else "",
                               tests, diff, str(meta.get("url") or ""))
    return out


def load_problems(path: Path, split: str = "test", keep: Selector | None = None) -> tuple[str, dict[Any, AppsProblem]]:
    """(layout name, {problem_id: problem}) for the problems ``keep`` accepts."""
    keep = keep or (lambda pid, diff: True)
    layout, target = detect_layout(path, split)
    log.info("reading APPS (%s) from %s", layout, target)
    if layout == "release":
        return layout, _read_release(target, keep)
    if layout == "datasets":
        return layout, read_datasets(target, split, keep)
    return layout, _read_rows(target, layout, keep)
