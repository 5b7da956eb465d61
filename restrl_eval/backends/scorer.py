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
from restrl_eval.backends.scorer_io import (
    OUTPUTS,
    ScorerMeta,
    check_problem_field,
    padded_batches,
    read_scorer_meta,
    sigmoid,
    truncate_left,
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
    """``Scorer`` over a local sequence-classification checkpoint with one label.

    A checkpoint trained by restrl carries ``restrl_scorer.json``: its ``layout``,
    ``problem_field`` and ``output`` become the defaults here (an explicit argument
    wins). Without that file the scorer behaves as for the official value models: the
    official layout, the policy prompt as the problem, raw outputs.
    """

    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, source: ModelSource,
                 layout: str = DEFAULT_SCORER_LAYOUT, batch_size: int = 16,
                 max_length: int | None = None, problem_field: str = "prompt", output: str = "raw",
                 meta: ScorerMeta | None = None) -> None:
        n_labels = getattr(model.config, "num_labels", None)
        if n_labels != 1:
            raise BackendError(f"scorer {source.name!r}: expected num_labels=1, checkpoint has {n_labels}")
        if output not in OUTPUTS:
            raise BackendError(f"scorer {source.name!r}: output {output!r} (expected one of {', '.join(OUTPUTS)})")
        self.model, self.tokenizer, self.source = model, tokenizer, source
        self.layout = check_layout(layout)
        self.batch_size = batch_size
        self.max_length: int = max_length or int(getattr(model.config, "max_position_embeddings", 4096))
        self.device = str(model.device)
        self.problem_field = check_problem_field(problem_field)
        self.output = output
        self.probabilities = output == "sigmoid"
        self.meta = meta or ScorerMeta()
        # the classifier pools the last non-pad token, which it finds by pad_token_id
        model.config.pad_token_id = tokenizer.pad_token_id
        self.calls = 0  # rows scored, for budget accounting and tests
        self.tokens = 0  # their input tokens

    @classmethod
    def load(cls, path: str, layout: str | None = None, dtype: str | None = "auto",
             device: str | None = None, batch_size: int = 16, max_length: int | None = None,
             problem_field: str | None = None, output: str | None = None,
             **unused: Any) -> TransformersScorer:
        if unused:
            raise BackendError(f"scorer: unknown option(s) {', '.join(sorted(unused))}")
        source = resolve_model(path)
        meta = read_scorer_meta(source.path)
        layout = check_layout(layout or meta.layout or DEFAULT_SCORER_LAYOUT)
        problem_field = check_problem_field(problem_field, meta.problem_field or "prompt")
        tokenizer = load_tokenizer(source, padding_side="right")
        model = load_sequence_classifier(source, dtype=dtype, device=pick_device(device))
        return cls(model, tokenizer, source, layout, batch_size, max_length, problem_field,
                   output or meta.output or "raw", meta)

    # -- the Scorer interface -------------------------------------------------------
    def score(self, problem: str, programs: Sequence[str]) -> list[float]:
        raw = self._forward([self.encode(problem, p) for p in programs])
        return [sigmoid(x) for x in raw] if self.probabilities else raw

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
            "problem_field": self.problem_field,
            "output": self.output,
            "kind": self.meta.kind,
            "metadata": self.meta.path,
            "dtype": str(self.model.dtype).replace("torch.", ""),
            "device": self.device,
            "max_length": self.max_length,
        }

    # -- inputs and the batched forward ----------------------------------------------------
    def encode(self, problem: str, code: str) -> list[int]:
        """Token ids of the laid-out input; an over-long one loses the start of its code.

        Why that cut: the score is read at the last token, so the code's end matters, and
        without the problem the score means nothing; it is the cut ``restrl-train``
        trains with (``code-left``). A problem too long to leave half of ``max_length``
        for the code keeps the input's end instead, as the official scorer does.
        """
        text = self.layout.format(problem=problem, code=code)
        enc = self.tokenizer(text, add_special_tokens=True, return_offsets_mapping=self.tokenizer.is_fast)
        ids = list(enc["input_ids"])
        if len(ids) <= self.max_length:
            return ids
        head = len(self.layout.split("{code}")[0].format(problem=problem))
        offsets = enc.get("offset_mapping") or []
        k = next((j for j, (a, b) in enumerate(offsets) if a >= head and b > a), None)
        if k is None or k > self.max_length // 2:
            return truncate_left(ids, self.max_length, "scorer input (its problem is too long to keep)")
        log.warning("scorer input has %d tokens; cutting the start of the code to keep %d", len(ids), self.max_length)
        return ids[:k] + ids[len(ids) - (self.max_length - k):]

    def raw(self, texts: Sequence[str]) -> list[float]:
        """The model's scalar output on each (already laid-out) text, before any sigmoid or
        clip; an over-long text keeps its end."""
        return self._forward([truncate_left(self.tokenizer(t, add_special_tokens=True)["input_ids"], self.max_length,
                                            f"scorer input {i}") for i, t in enumerate(texts)])

    def _forward(self, encoded: Sequence[list[int]]) -> list[float]:
        import torch

        if not encoded:
            return []
        scores: list[float] = [0.0] * len(encoded)
        for idx, ids, mask in padded_batches(encoded, self.batch_size, self.tokenizer.pad_token_id):
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
            for row, i in enumerate(idx):
                scores[i] = float(logits[row, 0].float())
        self.calls += len(encoded)
        self.tokens += sum(len(e) for e in encoded)
        return scores
