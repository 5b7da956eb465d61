"""An off-the-shelf outcome reward model read over a chat: user = problem, assistant = code.

Why: the paper's ORM baselines are general reward models (Skywork-Reward and the like),
``AutoModelForSequenceClassification`` checkpoints trained on conversations, not on the
ReST-RL ``<prompt>/<answer>`` layout. Such a model must see exactly the conversation
format it was trained on, so the input is the checkpoint's own chat template applied to
``[user: problem, assistant: code]`` (as the official ``skywork`` wrapper does), and the
score is the head's raw output (a logit: ``probabilities`` is False, so ``prm`` with
``prod`` applies a sigmoid, and ``value`` is its sigmoid).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from restrl_eval.backends.base import BackendError
from restrl_eval.backends.models import ModelSource, resolve_model, weights_sha256
from restrl_eval.backends.scorer_io import check_problem_field, forward_scores, load_classifier, sigmoid, truncate_left

__all__ = ["ChatORMScorer"]


class ChatORMScorer:
    """``Scorer`` over a sequence classifier with one label, fed a chat conversation."""

    name = "chat-orm"
    probabilities = False  # a reward model's logit

    def __init__(self, model: Any, tokenizer: Any, source: ModelSource, batch_size: int = 8,
                 max_length: int | None = None, problem_field: str = "prompt", system: str | None = None) -> None:
        n_labels = getattr(model.config, "num_labels", None)
        if n_labels != 1:
            raise BackendError(f"chat-orm scorer {source.name!r}: expected num_labels=1, checkpoint has {n_labels}")
        if not getattr(tokenizer, "chat_template", None):
            raise BackendError(f"chat-orm scorer {source.name!r}: the tokenizer has no chat template")
        self.model, self.tokenizer, self.source = model, tokenizer, source
        self.batch_size = batch_size
        self.max_length: int = max_length or int(getattr(model.config, "max_position_embeddings", 4096))
        self.device = str(model.device)
        self.problem_field = check_problem_field(problem_field)
        self.system = system
        model.config.pad_token_id = tokenizer.pad_token_id
        self.calls = 0
        self.tokens = 0

    @classmethod
    def load(cls, path: str, dtype: str | None = "auto", device: str | None = None, batch_size: int = 8,
             max_length: int | None = None, problem_field: str | None = None, system: str | None = None,
             **unused: Any) -> ChatORMScorer:
        if unused:
            raise BackendError(f"chat-orm scorer: unknown option(s) {', '.join(sorted(unused))}")
        source = resolve_model(path)
        model, tokenizer = load_classifier(source, dtype, device)
        return cls(model, tokenizer, source, batch_size, max_length, check_problem_field(problem_field), system)

    def conversation(self, problem: str, code: str) -> str:
        """The exact text the model reads: the chat template over problem and code."""
        messages = [{"role": "user", "content": problem}, {"role": "assistant", "content": code}]
        if self.system is not None:
            messages.insert(0, {"role": "system", "content": self.system})
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False))

    # -- the Scorer interface -------------------------------------------------------
    def score(self, problem: str, programs: Sequence[str]) -> list[float]:
        return self.raw([self.conversation(problem, p) for p in programs])

    def score_steps(self, problem: str, lines: Sequence[str]) -> list[float]:
        return self.score(problem, ["\n".join(lines[: i + 1]) for i in range(len(lines))])

    def value(self, problem: str, partial_programs: Sequence[str]) -> list[float]:
        return [sigmoid(x) for x in self.score(problem, partial_programs)]

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.source.name, "path": self.source.path,
                "sha256": weights_sha256(self.source), "problem_field": self.problem_field,
                "system": self.system, "output": "raw", "dtype": str(self.model.dtype).replace("torch.", ""),
                "device": self.device, "max_length": self.max_length}

    def raw(self, texts: Sequence[str]) -> list[float]:
        """The head's output on each rendered conversation (the template brings its own
        special tokens, so none are added)."""
        if not texts:
            return []
        encoded = [truncate_left(self.tokenizer(t, add_special_tokens=False)["input_ids"], self.max_length,
                                 f"chat-orm input {i}") for i, t in enumerate(texts)]
        scores = forward_scores(self.model, encoded, self.batch_size, self.tokenizer.pad_token_id, self.device)
        self.calls += len(texts)
        self.tokens += sum(len(e) for e in encoded)
        return scores
