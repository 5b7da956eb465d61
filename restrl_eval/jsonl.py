"""The one JSON Lines reader: every row a JSON object, every bad line a ``FILE:LINE:`` error.

Why one reader: samples (``restrl-eval evaluate``), task files, SFT and scorer training
records and the append-only logs of runs and collections are all JSONL, and each used to
carry its own loop with its own wording for the same faults. Here a missing file, a line
that is not UTF-8, not JSON or not an object is one line naming the file and the line,
raised as the caller's own error class (so each command keeps reporting its own error
type). Blank lines are skipped.

``read_log`` is the variant for files this project appends to while it runs: a last line
without its newline is the write a crash interrupted, so it is dropped (and reported)
instead of refused.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["iter_jsonl", "read_log"]

PathLike = str | os.PathLike[str]


def _lines(path: Path, error_cls: type[Exception], invalid: str, torn: list[bool] | None
           ) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise error_cls(f"{path}: no such file") from None
    except OSError as exc:
        raise error_cls(f"{path}: cannot read ({exc.strerror or exc})") from None
    with f:
        for n, raw in enumerate(f, 1):
            if torn is not None and not raw.endswith(b"\n"):
                torn.append(True)  # the process died mid-write: the row never finished
                return
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise error_cls(f"{path}:{n}: not valid UTF-8") from None
            if not text.strip():
                continue
            try:
                row = json.loads(text.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                raise error_cls(f"{path}:{n}: {invalid} ({exc.msg} at column {exc.colno})") from None
            if not isinstance(row, dict):
                raise error_cls(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
            yield n, row


def iter_jsonl(path: PathLike, error_cls: type[Exception] = ValueError, *,
               invalid: str = "not valid JSON") -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` for every non-blank line of ``path``; a bad line raises
    ``error_cls("FILE:LINE: ...")``. ``invalid`` words the JSON fault (a command whose
    users already know another wording keeps it)."""
    return _lines(Path(path), error_cls, invalid, None)


def read_log(path: PathLike, error_cls: type[Exception] = ValueError, *,
             invalid: str = "not valid JSON") -> tuple[list[dict[str, Any]], bool]:
    """The complete rows of an append-only JSONL file (none when it does not exist), and
    whether a torn last line was dropped. Any other bad line raises ``error_cls``."""
    p = Path(path)
    if not p.exists():
        return [], False
    torn: list[bool] = []
    rows = [row for _, row in _lines(p, error_cls, invalid, torn)]
    return rows, bool(torn)
