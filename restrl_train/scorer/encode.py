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
from dataclasses import dataclass
from typing import Any

from restrl_train.data.records import DataError, Record

__all__ = ["Encoder", "ScorerDataset", "collate", "select_records"]


def select_records(kind: str, records: Sequence[Record], prm_label: str = "soft") -> list[Record]:
    """The examples a scorer of ``kind`` trains on: vm every node and program state, orm
    complete programs, prm line-prefix step labels (given, or derived from programs)."""
    from restrl_train.data.steps import step_labels

    if kind == "vm":
        return [r for r in records if r.kind in ("node", "program", "outcome")]
    if kind == "orm":
        return [r for r in records if r.kind in ("program", "outcome")]
    return [r for r in records if r.kind == "step"] + step_labels(records, prm_label)


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
        head = self.layout.split("{code}")[0].format(problem=problem)
        enc = self.tokenizer(self.text(problem, code), add_special_tokens=True, return_offsets_mapping=True)
        ids: list[int] = list(enc["input_ids"])
        if len(ids) <= self.max_length:
            return ids
        if self.truncation == "refuse":
            raise DataError(f"{where}: input has {len(ids)} tokens, more than max_length {self.max_length} "
                            f"(truncation=refuse; raise --max-length or use --truncation code-left)")
        offsets = enc["offset_mapping"]
        k = next((i for i, (s, e) in enumerate(offsets) if s >= len(head) and e > s), len(ids))
        if k > self.max_length - self.min_code_tokens:
            raise DataError(f"{where}: the problem alone takes {k} tokens; max_length {self.max_length} leaves "
                            f"fewer than {self.min_code_tokens} for the code (raise --max-length)")
        return ids[:k] + ids[len(ids) - (self.max_length - k):]


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
