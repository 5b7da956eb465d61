"""Turn records into scorer inputs: the official template, explicit truncation, padding.

Why explicit truncation: the official tokenizer truncates from the left at 2048 tokens,
so a long problem loses its statement and keeps only code. Here ``code-left`` keeps the
whole ``\\n<prompt>\\n{problem}\\n<answer>\\n`` head and drops the *start of the code*
(the score is read at the last token, so the code's end is what matters); a problem too
long to leave ``min_code_tokens`` for the code is refused, as is any over-long input
with ``refuse``. Why right padding: the sequence classifier pools the last non-pad token
(found through ``config.pad_token_id``), as restrl's scorer backend does at inference.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from restrl_eval.backends.scorer_io import InputTooLong, encode_layout
from restrl_train.data.records import DataError, Record

__all__ = ["PROBLEM_FILTERS", "Encoder", "ScorerDataset", "collate", "select_records", "shape_training"]

PROBLEM_FILTERS = ("all", "mixed")


def select_records(kind: str, records: Sequence[Record], prm_label: str = "soft") -> list[Record]:
    """The examples a scorer of ``kind`` trains on: vm every node and program state, orm
    complete programs, prm line-prefix step labels (given, or derived from programs)."""
    from restrl_train.data.steps import step_labels

    if kind == "vm":
        return [r for r in records if r.kind in ("node", "program", "outcome")]
    if kind == "orm":
        return [r for r in records if r.kind in ("program", "outcome")]
    return [r for r in records if r.kind == "step"] + step_labels(records, prm_label)


def shape_training(records: Sequence[Record], dedupe: bool = False, problems: str = "all") -> list[Record]:
    """The training side, shaped for within-problem ranking (the held-out side is never shaped).

    ``problems="mixed"`` keeps only problems whose complete programs include both a passing
    and a failing one: an all-pass or all-fail pool teaches which problems are hard, which
    ranks nothing within a problem. ``dedupe`` merges repeats of one program of one problem
    (target: their mean): sampled pools repeat programs (4.5 distinct of 8 at T=1.0 on
    ``mini``), and a repeat costs a training step without adding a ranking pair. Node and
    step records are already distinct and pass through."""
    if problems not in PROBLEM_FILTERS:
        raise ValueError(f"problems {problems!r} (use {', '.join(PROBLEM_FILTERS)})")
    out = list(records)
    if problems == "mixed":
        seen: dict[str, set[bool]] = {}
        for r in out:
            if r.kind in ("program", "outcome") and r.passed is not None:
                seen.setdefault(r.task_id, set()).add(bool(r.passed))
        out = [r for r in out if len(seen.get(r.task_id, ())) == 2]
    if dedupe:
        first: dict[tuple[str, str], int] = {}
        targets: dict[tuple[str, str], list[float]] = {}
        kept: list[Record] = []
        for r in out:
            if r.kind not in ("program", "outcome"):
                kept.append(r)
                continue
            key = (r.task_id, r.code)
            if key not in first:
                first[key] = len(kept)
                targets[key] = []
                kept.append(r)
            targets[key].append(r.target)
        for key, i in first.items():
            ts = targets[key]
            kept[i] = replace(kept[i], target=sum(ts) / len(ts), visits=len(ts))
        out = kept
    return out


@dataclass
class Encoder:
    """Token ids of one laid-out input, truncated as configured."""

    tokenizer: Any
    layout: str
    max_length: int
    truncation: str = "code-left"
    min_code_tokens: int = 32

    def text(self, problem: str, code: str) -> str:
        return self.layout.format(problem=problem, code=code)

    def __call__(self, problem: str, code: str, where: str = "input") -> list[int]:
        # the one cut, shared with restrl_eval's scorer backend (inference reads alike)
        try:
            return encode_layout(self.tokenizer, self.layout, problem, code, self.max_length, self.truncation,
                                 self.min_code_tokens)
        except InputTooLong as exc:
            raise DataError(f"{where}: {exc}") from None


class ScorerDataset:
    """Encoded examples; ``labels`` = [target, problem index, passed (1/0, -1 unknown)]."""

    def __init__(self, records: Sequence[Record], encoder: Encoder, groups: dict[str, int]) -> None:
        self.records = list(records)
        self.items = []
        for r in self.records:
            passed = -1.0 if r.passed is None else float(r.passed)
            self.items.append({"input_ids": encoder(r.problem, r.code, r.where),
                               "labels": [r.target, float(groups[r.task_id]), passed]})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.items[i]


def collate(pad_id: int, features: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Right-pad a batch; float labels."""
    import torch

    width = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for row, f in enumerate(features):
        n = len(f["input_ids"])
        ids[row, :n] = torch.tensor(f["input_ids"], dtype=torch.long)
        mask[row, :n] = 1
    out: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
    if "labels" in features[0]:
        out["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.float32)
    return out
