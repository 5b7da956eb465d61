"""What every transformers scorer backend shares: the checkpoint's restrl metadata, the
problem-field choice, length limits, the code-left cut and right-padded batches.

Why a module of its own: the sequence-classification scorer, the chat-template ORM and
the token-level PRM read different heads, but must agree on how a checkpoint says how
it was trained (``restrl_scorer.json``), on what fills ``{problem}``, and on how inputs
are cut and batched, so that their costs (rows and tokens) are counted alike. The cut
(``encode_layout``) is also the one ``restrl-train vm|orm|prm`` trains with, so a
trained scorer reads an over-long input at inference exactly as it read it in training.
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
    "TRUNCATIONS",
    "InputTooLong",
    "ScorerMeta",
    "check_problem_field",
    "encode_layout",
    "load_classifier",
    "forward_scores",
    "padded_batches",
    "read_scorer_meta",
    "sigmoid",
    "truncate_left",
]

SCORER_META_FILE = "restrl_scorer.json"
"""Written next to the weights by ``restrl-train vm|orm|prm``: how the scorer was trained."""

PROBLEM_FIELDS = ("prompt", "raw")
OUTPUTS = ("raw", "sigmoid")
TRUNCATIONS = ("code-left", "refuse")
_KINDS = ("vm", "orm", "prm")


@dataclass(frozen=True)
class ScorerMeta:
    """The training-side facts a scorer needs at inference (all optional).

    ``kind``: vm, orm or prm. ``layout``: the input template it was trained on.
    ``problem_field``: ``raw`` (the task's problem text) or ``prompt`` (the policy's
    prompt). ``output``: ``sigmoid`` when training squashed the head's output (so
    inference must too), ``raw`` when the head regressed the target directly.
    ``max_length``, ``truncation``, ``min_code_tokens``: the input limit and cut it was
    trained with (``encode_layout``).
    """

    kind: str | None = None
    layout: str | None = None
    problem_field: str | None = None
    output: str | None = None
    path: str | None = None
    max_length: int | None = None
    truncation: str | None = None
    min_code_tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        keys = ("kind", "layout", "problem_field", "output", "max_length", "truncation", "min_code_tokens")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


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
    allowed = {"kind": _KINDS, "problem_field": PROBLEM_FIELDS, "output": OUTPUTS, "truncation": TRUNCATIONS}
    for key, values in allowed.items():
        if key in data and data[key] not in values:
            raise BackendError(f"{path}: field {key!r} is {data[key]!r} (expected one of {', '.join(values)})")
    if "layout" in data and not isinstance(data["layout"], str):
        raise BackendError(f"{path}: field 'layout' must be a string")
    for key in ("max_length", "min_code_tokens"):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise BackendError(f"{path}: field {key!r} is {value!r} (expected a positive whole number)")
    return ScorerMeta(data.get("kind"), data.get("layout"), data.get("problem_field"), data.get("output"),
                      str(path), data.get("max_length"), data.get("truncation"), data.get("min_code_tokens"))


def load_classifier(source: Any, dtype: str | None, device: str | None) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a one-label sequence-classification checkpoint (a
    ``ModelSource``), right-padded: the head pools each row's last real token."""
    from restrl_eval.backends.models import load_sequence_classifier, load_tokenizer, pick_device

    tokenizer = load_tokenizer(source, padding_side="right")
    return load_sequence_classifier(source, dtype=dtype, device=pick_device(device)), tokenizer


def check_problem_field(value: str | None, default: str = "prompt") -> str:
    field = default if value is None else value
    if field not in PROBLEM_FIELDS:
        raise BackendError(f"scorer problem field {field!r}: expected one of {', '.join(PROBLEM_FIELDS)}")
    return field


class InputTooLong(ValueError):
    """An input over ``max_length`` that the truncation rule will not cut (``refuse``, or a
    problem that leaves too little room for code). ``ids``: the whole input's token ids."""

    def __init__(self, message: str, ids: list[int]) -> None:
        super().__init__(message)
        self.ids = ids


def _code_start(tokenizer: Any, enc: Any, head: str, ids: list[int]) -> int:
    """Index of the first token that belongs to the code (``len(ids)`` when none does)."""
    offsets = enc.get("offset_mapping")
    if offsets:
        return next((i for i, (s, e) in enumerate(offsets) if s >= len(head) and e > s), len(ids))
    # a slow tokenizer has no offsets: the head's own length (it ends on a line break)
    return min(len(tokenizer(head, add_special_tokens=True)["input_ids"]), len(ids))


def encode_layout(tokenizer: Any, layout: str, problem: str, code: str, max_length: int,
                  truncation: str = "code-left", min_code_tokens: int = 32) -> list[int]:
    """Token ids of ``layout`` filled with ``problem`` and ``code``, at most ``max_length``.

    ``code-left`` keeps the whole head (everything before ``{code}``: the problem) and
    drops the *start of the code*: the score is read at the last token, so the code's end
    matters, and without the problem the score means nothing. A head that leaves fewer
    than ``min_code_tokens`` for the code, or any over-long input with ``refuse``, raises
    ``InputTooLong``; the trainer refuses such data, the scorer backend decides itself.
    """
    if truncation not in TRUNCATIONS:
        raise ValueError(f"truncation {truncation!r} (use {', '.join(TRUNCATIONS)})")
    head = layout.split("{code}")[0].format(problem=problem)
    enc = tokenizer(layout.format(problem=problem, code=code), add_special_tokens=True,
                    return_offsets_mapping=bool(getattr(tokenizer, "is_fast", False)))
    ids: list[int] = list(enc["input_ids"])
    if len(ids) <= max_length:
        return ids
    if truncation == "refuse":
        raise InputTooLong(f"input has {len(ids)} tokens, more than max_length {max_length} "
                           f"(truncation=refuse; raise --max-length or use --truncation code-left)", ids)
    k = _code_start(tokenizer, enc, head, ids)
    if k > max_length - min_code_tokens:
        raise InputTooLong(f"the problem alone takes {k} tokens; max_length {max_length} leaves "
                           f"fewer than {min_code_tokens} for the code (raise --max-length)", ids)
    return ids[:k] + ids[len(ids) - (max_length - k):]


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


def forward_scores(model: Any, encoded: Sequence[Sequence[int]], batch_size: int, pad: int,
                   device: str) -> list[float]:
    """The first output of a one-label head on each row of token ids, in input order
    (batched by ``padded_batches``; the head pools each row's last real token)."""
    import torch

    scores: list[float] = [0.0] * len(encoded)
    for idx, ids, mask in padded_batches(encoded, batch_size, pad):
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        for row, i in enumerate(idx):
            scores[i] = float(logits[row, 0].float())
    return scores
