"""What every transformers scorer backend shares: the checkpoint's restrl metadata, the
problem-field choice, length limits and right-padded batches of token ids.

Why a module of its own: the sequence-classification scorer, the chat-template ORM and
the token-level PRM read different heads, but must agree on how a checkpoint says how
it was trained (``restrl_scorer.json``), on what fills ``{problem}``, and on how inputs
are cut and batched, so that their costs (rows and tokens) are counted alike.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restrl_eval.backends.base import BackendError
from restrl_eval.backends.base import _sigmoid as sigmoid

log = logging.getLogger(__name__)

__all__ = [
    "OUTPUTS",
    "PROBLEM_FIELDS",
    "SCORER_META_FILE",
    "ScorerMeta",
    "check_problem_field",
    "padded_batches",
    "read_scorer_meta",
    "sigmoid",
    "truncate_left",
]

SCORER_META_FILE = "restrl_scorer.json"
"""Written next to the weights by ``restrl-train vm|orm|prm``: how the scorer was trained."""

PROBLEM_FIELDS = ("prompt", "raw")
OUTPUTS = ("raw", "sigmoid")
_KINDS = ("vm", "orm", "prm")


@dataclass(frozen=True)
class ScorerMeta:
    """The training-side facts a scorer needs at inference (all optional).

    ``kind``: vm, orm or prm. ``layout``: the input template it was trained on.
    ``problem_field``: ``raw`` (the task's problem text) or ``prompt`` (the policy's
    prompt). ``output``: ``sigmoid`` when training squashed the head's output (so
    inference must too), ``raw`` when the head regressed the target directly.
    """

    kind: str | None = None
    layout: str | None = None
    problem_field: str | None = None
    output: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("kind", self.kind), ("layout", self.layout),
                                  ("problem_field", self.problem_field), ("output", self.output)) if v is not None}


def read_scorer_meta(model_dir: str | Path) -> ScorerMeta:
    """``restrl_scorer.json`` of a checkpoint directory; an empty record when absent.

    A present but malformed file is an error naming the file and the field: guessing
    the layout or the output scale of a scorer silently gives wrong rankings.
    """
    path = Path(model_dir) / SCORER_META_FILE
    if not path.is_file():
        return ScorerMeta()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BackendError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise BackendError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise BackendError(f"{path}: expected a JSON object")
    allowed = {"kind": _KINDS, "problem_field": PROBLEM_FIELDS, "output": OUTPUTS}
    for key, values in allowed.items():
        if key in data and data[key] not in values:
            raise BackendError(f"{path}: field {key!r} is {data[key]!r} (expected one of {', '.join(values)})")
    if "layout" in data and not isinstance(data["layout"], str):
        raise BackendError(f"{path}: field 'layout' must be a string")
    return ScorerMeta(data.get("kind"), data.get("layout"), data.get("problem_field"), data.get("output"),
                      str(path))


def check_problem_field(value: str | None, default: str = "prompt") -> str:
    field = default if value is None else value
    if field not in PROBLEM_FIELDS:
        raise BackendError(f"scorer problem field {field!r}: expected one of {', '.join(PROBLEM_FIELDS)}")
    return field


def truncate_left(ids: list[int], max_length: int, what: str) -> list[int]:
    """Keep the last ``max_length`` tokens: every head here reads the end of the input."""
    if len(ids) <= max_length:
        return ids
    log.warning("%s has %d tokens; keeping the last %d", what, len(ids), max_length)
    return ids[-max_length:]


def padded_batches(encoded: Sequence[Sequence[int]], batch_size: int, pad: int) -> Iterator[tuple[list[int], Any, Any]]:
    """Right-padded batches, rows sorted by length (little padding): ``(indices, ids, mask)``.

    Right padding keeps every real token at the position it has alone, so a causal
    model's score of a row does not depend on its neighbours in the batch.
    """
    import torch

    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        width = max(len(encoded[i]) for i in idx)
        ids = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            ids[row, : len(encoded[i])] = torch.tensor(list(encoded[i]), dtype=torch.long)
            mask[row, : len(encoded[i])] = 1
        yield idx, ids, mask
