"""Pinned, shipped benchmark data: locate a release file and verify its sha256.

Why: a score is only comparable when the exact data is known. The official release
files ship inside the package (``restrl_eval/data``), so a fresh install works
offline; ``--data-dir`` or ``RESTRL_DATA_DIR`` points at another copy, and every load
checks the file's sha256 against the pinned value, failing with a one-line error that
names the file and the expected hash.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from restrl_eval.benchmarks.base import BenchmarkError

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"
ENV_DATA_DIR = "RESTRL_DATA_DIR"


@dataclass(frozen=True)
class Release:
    """One pinned release file: ``sha256`` of the file as stored (gzip bytes)."""

    filename: str
    sha256: str
    raw_md5: str  # md5 of the decompressed JSONL: evalplus' dataset "hash"


RELEASES: dict[str, Release] = {
    "humaneval+": Release(
        "HumanEvalPlus-v0.1.10.jsonl.gz",
        "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101",
        "fe585eb4df8c88d844eeb463ea4d0302",
    ),
    "mbpp+": Release(
        "MbppPlus-v0.2.0.jsonl.gz",
        "af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63",
        "ee43ecabebf20deef4bb776a405ac5b1",
    ),
    "bigcodebench": Release(
        "BigCodeBench-v0.1.0_hf.jsonl.gz",
        "58142744edaf6036387f8761701f1b353432b0ed33f2edec1de8a59e7431ef7a",
        "3522577434616e01948f44671882468e",
    ),
}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def locate(dataset: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of ``dataset``'s release file, verified. Raises BenchmarkError (one line)."""
    rel = RELEASES[dataset]
    base = Path(data_dir or os.environ.get(ENV_DATA_DIR) or PACKAGE_DATA)
    path = base / rel.filename
    if not path.is_file():
        raise BenchmarkError(f"{path}: missing data file for {dataset} (expected sha256 {rel.sha256})")
    got = _cached_sha256(str(path), path.stat().st_mtime_ns, path.stat().st_size)
    if got != rel.sha256:
        raise BenchmarkError(f"{path}: sha256 {got} does not match the pinned {rel.sha256} for {dataset}")
    return path


@lru_cache(maxsize=16)
def _cached_sha256(path: str, mtime_ns: int, size: int) -> str:
    return _sha256(Path(path))


def load_rows(dataset: str, data_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The release's JSONL rows, in file order, after the sha256 check."""
    path = locate(dataset, data_dir)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
