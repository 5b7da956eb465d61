"""Reward and value models: a transformers sequence classifier with one output.

Why one class for ORM, PRM and VM: the official ReST-RL value model is an
``AutoModelForSequenceClassification(num_labels=1)`` on the policy's backbone, read on
``"\\n<prompt>\\n{problem}\\n<answer>\\n{code}\\n"``; an outcome reward model scores a
complete program, a process reward model each line-prefix state, a value model a
partial program, and all three are the same forward pass on a different ``{code}``.
Scores are computed in batches sorted by length (little padding), and the classifier
reads the last real token of each row, so padding never changes a score.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from restrl_eval.backends.base import DEFAULT_SCORER_LAYOUT, BackendError
from restrl_eval.backends.models import (
    ModelSource,
    load_sequence_classifier,
    load_tokenizer,
    pick_device,
    resolve_model,
    weights_sha256,
)

log = logging.getLogger(__name__)

__all__ = ["TransformersScorer", "check_layout"]


def check_layout(layout: str) -> str:
    """A layout must name ``{problem}`` and ``{code}`` and nothing else."""
    try:
        layout.format(problem="", code="")
    except (KeyError, IndexError, ValueError) as exc:
        raise BackendError(f"scorer layout {layout!r}: bad placeholder ({exc}); use {{problem}} and {{code}}") from None
    if "{problem}" not in layout or "{code}" not in layout:
        raise BackendError(f"scorer layout {layout!r} must contain {{problem}} and {{code}}")
    return layout


class TransformersScorer:
    """``Scorer`` over a local sequence-classification checkpoint with one label."""

    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, source: ModelSource,
                 layout: str = DEFAULT_SCORER_LAYOUT, batch_size: int = 16,
                 max_length: int | None = None) -> None:
        n_labels = getattr(model.config, "num_labels", None)
        if n_labels != 1:
            raise BackendError(f"scorer {source.name!r}: expected num_labels=1, checkpoint has {n_labels}")
        self.model, self.tokenizer, self.source = model, tokenizer, source
        self.layout = check_layout(layout)
        self.batch_size = batch_size
        self.max_length = max_length or getattr(model.config, "max_position_embeddings", 4096)
        self.device = str(model.device)
        # the classifier pools the last non-pad token, which it finds by pad_token_id
        model.config.pad_token_id = tokenizer.pad_token_id
        self.calls = 0  # states scored, for budget accounting and tests

    @classmethod
    def load(cls, path: str, layout: str = DEFAULT_SCORER_LAYOUT, dtype: str | None = "auto",
             device: str | None = None, batch_size: int = 16, max_length: int | None = None,
             **unused: Any) -> TransformersScorer:
        if unused:
            raise BackendError(f"scorer: unknown option(s) {', '.join(sorted(unused))}")
        check_layout(layout)
        source = resolve_model(path)
        tokenizer = load_tokenizer(source, padding_side="right")
        model = load_sequence_classifier(source, dtype=dtype, device=pick_device(device))
        return cls(model, tokenizer, source, layout, batch_size, max_length)

    # -- the Scorer interface -------------------------------------------------------
    def score(self, problem: str, programs: Sequence[str]) -> list[float]:
        return self.raw([self.layout.format(problem=problem, code=p) for p in programs])

    def score_steps(self, problem: str, lines: Sequence[str]) -> list[float]:
        states = ["\n".join(lines[: i + 1]) for i in range(len(lines))]
        return self.score(problem, states)

    def value(self, problem: str, partial_programs: Sequence[str]) -> list[float]:
        return [min(1.0, max(0.0, v)) for v in self.score(problem, partial_programs)]

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.source.name,
            "path": self.source.path,
            "sha256": weights_sha256(self.source),
            "layout": self.layout,
            "dtype": str(self.model.dtype).replace("torch.", ""),
            "device": self.device,
            "max_length": self.max_length,
        }

    # -- batched forward ----------------------------------------------------------------
    def raw(self, texts: Sequence[str]) -> list[float]:
        """The model's scalar output on each laid-out text, unclipped."""
        import torch

        if not texts:
            return []
        encoded = [self.tokenizer(t, add_special_tokens=True)["input_ids"] for t in texts]
        for i, ids in enumerate(encoded):
            if len(ids) > self.max_length:  # keep the end: the score is read at the last token
                log.warning("scorer input %d has %d tokens; keeping the last %d", i, len(ids), self.max_length)
                encoded[i] = ids[-self.max_length:]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        scores: list[float] = [0.0] * len(texts)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            width = max(len(encoded[i]) for i in idx)
            ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, i in enumerate(idx):
                ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
                mask[row, : len(encoded[i])] = 1
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
            for row, i in enumerate(idx):
                scores[i] = float(logits[row, 0].float())
        self.calls += len(texts)
        return scores
