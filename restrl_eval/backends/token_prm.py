"""An off-the-shelf process reward model read at a step separator after every line.

Why this shape: general PRMs (Math-Shepherd, RLHFlow, Qwen-PRM) judge every step of a
solution in ONE forward pass: a separator token closes each step and the model's output
at that token is the step's correctness. Two heads are in use:

- a causal LM (Math-Shepherd style): at each separator, the next-token logits of a
  "good" and a "bad" label token (``+`` / ``-``); the step's probability is
  ``softmax([good, bad])[0]``;
- a token classifier (Qwen-PRM style, ``*ForTokenClassification`` with 2 labels): the
  softmax of the two class logits at each separator, class 1 being "correct".

A code line is a step (``split_steps``, as ``prm`` cuts programs). The input is the
problem, either in the checkpoint's chat template (user = problem, assistant = the
steps) or as plain text, then each line followed by the separator. Token ids are built
piece by piece, so the separator's position is exact whatever the tokenizer merges.
Scores are probabilities (``probabilities`` is True); ``score`` and ``value`` of a
program are the probability at its last step. An input longer than ``max_length`` keeps
its end (with a warning); the steps whose separators were cut score NaN, so ``prm``
ranks such a program last instead of guessing.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from restrl_eval.backends.base import BackendError, split_steps
from restrl_eval.backends.models import (
    ModelSource,
    load_tokenizer,
    pick_device,
    pick_dtype,
    resolve_model,
    weights_sha256,
)
from restrl_eval.backends.scorer_io import check_problem_field, padded_batches

log = logging.getLogger(__name__)

__all__ = ["TokenPRMScorer"]

_MARK = "\x00restrl-steps\x00"


class TokenPRMScorer:
    """``Scorer`` reading a step probability at every separator token."""

    name = "token-prm"
    probabilities = True

    def __init__(self, model: Any, tokenizer: Any, source: ModelSource, *, head: str, sep: str = " ки",
                 good: str = "+", bad: str = "-", chat: bool = False, batch_size: int = 8,
                 max_length: int | None = None, problem_field: str = "prompt") -> None:
        if head not in ("lm", "token"):
            raise BackendError(f"token-prm scorer: head {head!r} (expected lm or token)")
        self.model, self.tokenizer, self.source, self.head = model, tokenizer, source, head
        self.sep, self.good, self.bad, self.chat = sep, good, bad, chat
        self.sep_ids = self._ids(sep)
        if not sep or not self.sep_ids:
            raise BackendError(f"token-prm scorer {source.name!r}: empty step separator {sep!r}")
        if head == "lm":
            self.label_ids = (self._one_token(good, "good"), self._one_token(bad, "bad"))
        elif getattr(model.config, "num_labels", None) != 2:
            raise BackendError(f"token-prm scorer {source.name!r}: a token classifier needs num_labels=2, "
                               f"checkpoint has {getattr(model.config, 'num_labels', None)}")
        if chat and not getattr(tokenizer, "chat_template", None):
            raise BackendError(f"token-prm scorer {source.name!r}: chat=True but the tokenizer has no chat template")
        self.batch_size = batch_size
        self.max_length: int = max_length or int(getattr(model.config, "max_position_embeddings", 4096))
        self.device = str(model.device)
        self.problem_field = check_problem_field(problem_field)
        self.calls = 0
        self.tokens = 0

    @classmethod
    def load(cls, path: str, dtype: str | None = "auto", device: str | None = None, head: str = "auto",
             sep: str = " ки", good: str = "+", bad: str = "-", chat: bool = False, batch_size: int = 8,
             max_length: int | None = None, problem_field: str | None = None, **unused: Any) -> TokenPRMScorer:
        if unused:
            raise BackendError(f"token-prm scorer: unknown option(s) {', '.join(sorted(unused))}")
        if head not in ("auto", "lm", "token"):
            raise BackendError(f"token-prm scorer: head {head!r} (expected auto, lm or token)")
        source = resolve_model(path)
        tokenizer = load_tokenizer(source, padding_side="right")
        model, head = _load_model(source, head, dtype, device)
        return cls(model, tokenizer, source, head=head, sep=sep, good=good, bad=bad, chat=chat,
                   batch_size=batch_size, max_length=max_length, problem_field=check_problem_field(problem_field))

    # -- the Scorer interface -------------------------------------------------------
    def score_steps(self, problem: str, lines: Sequence[str]) -> list[float]:
        return self.step_probs(problem, [list(lines)])[0]

    def score(self, problem: str, programs: Sequence[str]) -> list[float]:
        return [probs[-1] if probs else 0.0 for probs in self.step_probs(problem, [split_steps(p) for p in programs])]

    def value(self, problem: str, partial_programs: Sequence[str]) -> list[float]:
        return self.score(problem, partial_programs)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.source.name, "path": self.source.path,
                "sha256": weights_sha256(self.source), "head": self.head, "sep": self.sep,
                "labels": [self.good, self.bad] if self.head == "lm" else None, "chat": self.chat,
                "problem_field": self.problem_field, "output": "probability",
                "dtype": str(self.model.dtype).replace("torch.", ""), "device": self.device,
                "max_length": self.max_length}

    # -- one forward pass per program ------------------------------------------------------
    def encode(self, problem: str, lines: Sequence[str]) -> tuple[list[int], list[int]]:
        """Token ids of the problem and the steps, and the position of each step's separator."""
        ids = self._ids(self._head_text(problem))
        marks = []
        for i, line in enumerate(lines):
            ids += self._ids(("\n" if i else "") + line) + self.sep_ids
            marks.append(len(ids) - 1)
        if len(ids) > self.max_length:  # keep the end: the late steps and the program's last step
            cut = len(ids) - self.max_length
            log.warning("token-prm input has %d tokens; keeping the last %d (steps cut off score NaN)",
                        len(ids), self.max_length)
            ids, marks = ids[cut:], [m - cut for m in marks]
        return ids, marks

    def step_probs(self, problem: str, programs: Sequence[Sequence[str]]) -> list[list[float]]:
        """Per-step probabilities of several programs' steps, batched; an empty program: []."""
        import torch

        out: list[list[float]] = [[] for _ in programs]
        todo = [i for i, lines in enumerate(programs) if lines]
        encoded = [self.encode(problem, programs[i]) for i in todo]
        pad = self.tokenizer.pad_token_id
        for idx, ids, mask in padded_batches([e[0] for e in encoded], self.batch_size, pad):
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
            logits = logits.float()
            if self.head == "lm":
                logits = logits[..., list(self.label_ids)]  # [good, bad]
                col = 0
            else:
                col = 1
            probs = logits.softmax(dim=-1)[..., col]
            for row, j in enumerate(idx):
                out[todo[j]] = [float(probs[row, m]) if m >= 0 else math.nan for m in encoded[j][1]]
        self.calls += len(encoded)
        self.tokens += sum(len(e[0]) for e in encoded)
        return out

    def _head_text(self, problem: str) -> str:
        if not self.chat:
            return problem + "\n"
        messages = [{"role": "user", "content": problem}, {"role": "assistant", "content": _MARK}]
        rendered = str(self.tokenizer.apply_chat_template(messages, tokenize=False))
        if _MARK not in rendered:
            raise BackendError("token-prm scorer: the chat template drops the assistant message")
        return rendered.split(_MARK, 1)[0]

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _one_token(self, text: str, what: str) -> int:
        ids = self._ids(text)
        if len(ids) != 1:
            raise BackendError(f"token-prm scorer {self.source.name!r}: {what} label {text!r} is {len(ids)} tokens "
                               "(it must be one token)")
        return ids[0]


def _load_model(source: ModelSource, head: str, dtype: str | None, device: str | None) -> tuple[Any, str]:
    """The model and its head: ``auto`` reads the checkpoint's architecture."""
    try:
        import transformers
    except ImportError as exc:
        raise BackendError(f"the token-prm scorer needs the 'models' extra: pip install 'restrl[models]' ({exc})") from None
    if head == "auto":
        try:
            config = transformers.AutoConfig.from_pretrained(source.path, **source.hf_kwargs())
        except (OSError, ValueError) as exc:
            raise BackendError(f"model {source.name!r}: cannot read config: {exc}") from None
        archs = getattr(config, "architectures", None) or []
        head = "token" if any(a.endswith("ForTokenClassification") for a in archs) else "lm"
    cls = transformers.AutoModelForTokenClassification if head == "token" else transformers.AutoModelForCausalLM
    dev = pick_device(device)
    try:
        model = cls.from_pretrained(source.path, dtype=pick_dtype(dtype, dev), **source.hf_kwargs())
    except (OSError, ValueError) as exc:
        raise BackendError(f"model {source.name!r}: cannot load weights: {str(exc).splitlines()[0]}") from None
    model.to(dev)
    model.eval()
    return model, head
