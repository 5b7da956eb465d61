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

from collections.abc import Sequence
from typing import Any

from restrl_eval.backends.base import DEFAULT_SCORER_LAYOUT, BackendError
from restrl_eval.backends.models import ModelSource, resolve_model, weights_sha256
from restrl_eval.backends.scorer_io import (
    OUTPUTS,
    TRUNCATIONS,
    InputTooLong,
    ScorerMeta,
    check_problem_field,
    encode_layout,
    forward_scores,
    load_classifier,
    read_scorer_meta,
    sigmoid,
    truncate_left,
)

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
    ``problem_field``, ``output``, ``max_length``, ``truncation`` and ``min_code_tokens``
    become the defaults here (an explicit argument wins). Without that file the scorer
    behaves as for the official value models: the official layout, the policy prompt as
    the problem, raw outputs, the model's own length limit.
    """

    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, source: ModelSource,
                 layout: str = DEFAULT_SCORER_LAYOUT, batch_size: int = 16,
                 max_length: int | None = None, problem_field: str = "prompt", output: str = "raw",
                 meta: ScorerMeta | None = None, truncation: str = "code-left",
                 min_code_tokens: int | None = None) -> None:
        n_labels = getattr(model.config, "num_labels", None)
        if n_labels != 1:
            raise BackendError(f"scorer {source.name!r}: expected num_labels=1, checkpoint has {n_labels}")
        if output not in OUTPUTS:
            raise BackendError(f"scorer {source.name!r}: output {output!r} (expected one of {', '.join(OUTPUTS)})")
        if truncation not in TRUNCATIONS:
            raise BackendError(f"scorer {source.name!r}: truncation {truncation!r} "
                               f"(expected one of {', '.join(TRUNCATIONS)})")
        self.model, self.tokenizer, self.source = model, tokenizer, source
        self.layout = check_layout(layout)
        self.batch_size = batch_size
        self.max_length: int = max_length or int(getattr(model.config, "max_position_embeddings", 4096))
        self.truncation = truncation
        # the trainer's default room for the code (32 tokens), at most half a short input
        self.min_code_tokens = min_code_tokens or min(32, self.max_length // 2)
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
             problem_field: str | None = None, output: str | None = None, truncation: str | None = None,
             min_code_tokens: int | None = None, **unused: Any) -> TransformersScorer:
        if unused:
            raise BackendError(f"scorer: unknown option(s) {', '.join(sorted(unused))}")
        source = resolve_model(path)
        meta = read_scorer_meta(source.path)
        layout = check_layout(layout or meta.layout or DEFAULT_SCORER_LAYOUT)
        problem_field = check_problem_field(problem_field, meta.problem_field or "prompt")
        model, tokenizer = load_classifier(source, dtype, device)
        return cls(model, tokenizer, source, layout, batch_size, max_length or meta.max_length, problem_field,
                   output or meta.output or "raw", meta, truncation or meta.truncation or "code-left",
                   min_code_tokens or meta.min_code_tokens)

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
            "truncation": self.truncation,
            "min_code_tokens": self.min_code_tokens,
        }

    # -- inputs and the batched forward ----------------------------------------------------
    def encode(self, problem: str, code: str) -> list[int]:
        """Token ids of the laid-out input, cut as the trainer cuts it (``encode_layout``:
        ``code-left`` keeps the problem and drops the start of the code).

        What training would have refused cannot be refused in the middle of a search:
        with ``code-left``, a problem too long to leave ``min_code_tokens`` for the code
        keeps the input's end instead (as the official scorer does), with a warning;
        ``truncation=refuse`` (``-R truncation=refuse``, or the checkpoint's setting) is
        an error naming the lengths.
        """
        try:
            return encode_layout(self.tokenizer, self.layout, problem, code, self.max_length, self.truncation,
                                 self.min_code_tokens)
        except InputTooLong as exc:
            if self.truncation == "refuse":
                raise BackendError(f"scorer {self.source.name!r}: {exc} (or pass -R truncation=code-left)") from None
            return truncate_left(exc.ids, self.max_length, f"scorer input (its problem leaves fewer than "
                                                           f"{self.min_code_tokens} tokens for the code)")

    def raw(self, texts: Sequence[str]) -> list[float]:
        """The model's scalar output on each (already laid-out) text, before any sigmoid or
        clip; an over-long text keeps its end."""
        return self._forward([truncate_left(self.tokenizer(t, add_special_tokens=True)["input_ids"], self.max_length,
                                            f"scorer input {i}") for i, t in enumerate(texts)])

    def _forward(self, encoded: Sequence[list[int]]) -> list[float]:
        if not encoded:
            return []
        scores = forward_scores(self.model, encoded, self.batch_size, self.tokenizer.pad_token_id, self.device)
        self.calls += len(encoded)
        self.tokens += sum(len(e) for e in encoded)
        return scores
