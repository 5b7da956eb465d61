"""``ScorerTrainConfig``: every setting of a vm/orm/prm training run, with its reason.

Loss: **binary cross-entropy on soft targets** (``loss="bce"``, the default). The targets
(MC values, fractions of tests passed, step success estimates) are probabilities in
[0, 1]; BCE-with-logits is the proper log-loss for a Bernoulli mean, its gradient
``sigmoid(z) - y`` does not vanish when the sigmoid saturates on the wrong side (MSE on a
sigmoid output has gradient ``(p - y) p (1 - p)``, which does), and the served score is
``sigmoid(logit)``, bounded without clipping. The official trainer's MSE on a raw,
unbounded logit (clipped only at inference) is not offered; ``loss="mse"`` is MSE on the
sigmoid output, for comparison. Either way the checkpoint's output is ``sigmoid``.

Learning rates: the official 1e-7 leaves a freshly initialised score head where it
started, so the head has its own rate (``head_lr``, default 1e-3) and the backbone a
fine-tuning rate (``lr``, default 2e-5).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["KINDS", "LOSSES", "TRUNCATIONS", "ScorerTrainConfig"]

KINDS = ("vm", "orm", "prm")
LOSSES = ("bce", "mse")
TRUNCATIONS = ("code-left", "refuse")
DEFAULT_LAYOUT = "\n<prompt>\n{problem}\n<answer>\n{code}\n"


@dataclass(frozen=True)
class ScorerTrainConfig:
    """Settings of ``restrl-train vm | orm | prm`` (TRL style: each field's help in metadata)."""

    kind: str = field(metadata={"help": "vm: values of partial and complete programs (node + program "
                                        "records); orm: complete programs only; prm: line-prefix step labels."})
    base: str = field(metadata={"help": "Base checkpoint: any causal LM the backends load (directory or "
                                        "alias such as smollm2-135m); a fresh one-output head is added."})
    output_dir: str = field(metadata={"help": "Output directory: checkpoints, the final model, "
                                              "restrl_scorer.json and the evaluation report."})
    data: tuple[str, ...] = field(default=(), metadata={"help": "JSONL record files (collect-values, "
                                                                   "collect-outcomes)."})
    lr: float = field(default=2e-5, metadata={"help": "Backbone learning rate (AdamW)."})
    head_lr: float = field(default=1e-3, metadata={"help": "Learning rate of the freshly initialised score "
                                                           "head (the official 1e-7 does not move it)."})
    epochs: float = field(default=2.0, metadata={"help": "Training epochs (official: 2)."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many optimizer steps (-1: epochs)."})
    batch_size: int = field(default=8, metadata={"help": "Examples per device per step."})
    grad_accum: int = field(default=1, metadata={"help": "Gradient accumulation steps."})
    max_length: int = field(default=1024, metadata={"help": "Token limit of one input (official: 2048)."})
    truncation: str = field(default="code-left", metadata={
        "help": "code-left: keep the whole problem and drop the start of the code (the score is read at the "
                "last token, so the code's end is kept); refuse: an over-long input is an error."})
    min_code_tokens: int = field(default=32, metadata={"help": "code-left: tokens the problem must leave for "
                                                                "the code, else the input is refused."})
    loss: str = field(default="bce", metadata={"help": "bce: BCE-with-logits on soft targets; mse: MSE on "
                                                       "the sigmoid output (see the module docstring)."})
    val_fraction: float = field(default=0.1, metadata={"help": "Fraction of PROBLEMS held out (split by "
                                                                "task id, never one problem on both sides)."})
    seed: int = field(default=0, metadata={"help": "Seed of the split, the head init and the data order."})
    eval_steps: int = field(default=50, metadata={"help": "Evaluate (and checkpoint) every N steps; the best "
                                                          "checkpoint by within-problem ranking is kept."})
    save_total_limit: int = field(default=2, metadata={"help": "Checkpoints kept besides the best."})
    prm_label: str = field(default="soft", metadata={"help": "prm: soft (mean reward of the prefix's "
                                                             "continuations) or hard (1 if any passes)."})
    problem_field: str = field(default="auto", metadata={"help": "Which text fills {problem}: raw problem "
                                                                 "statement, the policy prompt, or auto (as "
                                                                 "the data files hold it)."})
    dedupe: bool = field(default=False, metadata={"help": "Merge repeats of one program of one problem into "
                                                          "one training example (target: their mean); vm and orm (prm "
                                                          "labels are one per distinct prefix already)."})
    problems: str = field(default="all", metadata={"help": "all, or mixed: train only on problems whose programs "
                                                           "include both a passing and a failing one (the "
                                                           "held-out side keeps every problem)."})
    pair_weight: float = field(default=0.0, metadata={"help": "Weight of a within-problem pairwise "
                                                              "(Bradley-Terry) loss added to the pointwise one; "
                                                              "> 0 builds batches from whole problems."})
    group_size: int = field(default=4, metadata={"help": "With pair_weight > 0: programs of one problem "
                                                         "placed together in a batch."})
    layout: str = field(default=DEFAULT_LAYOUT, metadata={"help": "Input template (official ReST-RL)."})
    dtype: str = field(default="float32", metadata={"help": "Training dtype (float32, bfloat16)."})
    device: str | None = field(default=None, metadata={"help": "cpu, cuda, or None (automatic)."})
    logging_steps: int = field(default=10, metadata={"help": "Log the loss every N steps."})

    def __post_init__(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ValueError(f"ScorerTrainConfig: {what}")

        need(self.kind in KINDS, f"kind {self.kind!r} (use {', '.join(KINDS)})")
        need(self.loss in LOSSES, f"loss {self.loss!r} (use {', '.join(LOSSES)})")
        need(self.truncation in TRUNCATIONS, f"truncation {self.truncation!r} (use {', '.join(TRUNCATIONS)})")
        need(self.prm_label in ("soft", "hard"), f"prm_label {self.prm_label!r} (use soft or hard)")
        need(self.problem_field in ("auto", "raw", "prompt"), f"problem_field {self.problem_field!r}")
        need(self.problems in ("all", "mixed"), f"problems {self.problems!r} (use all or mixed)")
        need(self.pair_weight >= 0 and self.group_size >= 2, "need pair_weight >= 0 and group_size >= 2")
        need(self.lr > 0 and self.head_lr > 0, "learning rates must be > 0")
        need(self.epochs > 0 or self.max_steps > 0, "need epochs > 0 or max_steps > 0")
        for name in ("batch_size", "grad_accum", "eval_steps", "logging_steps", "save_total_limit"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1 (got {getattr(self, name)})")
        need(self.max_length >= 8, f"max_length must be >= 8 (got {self.max_length})")
        need(0 < self.min_code_tokens < self.max_length, "min_code_tokens must be in (0, max_length)")
        need(0.0 < self.val_fraction < 1.0, f"val_fraction must be in (0, 1) (got {self.val_fraction})")
        need(self.dtype in ("float32", "bfloat16", "float16"), f"dtype {self.dtype!r}")
        parts = self.layout.split("{code}")
        need(len(parts) == 2 and "{problem}" in parts[0],
             "layout must hold {problem} once, before {code} once (the problem is kept whole)")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data"] = list(self.data)
        return d

    def resume_key(self) -> dict[str, Any]:
        """Settings that must match for a rerun to resume from the checkpoints."""
        d = self.to_dict()
        for k in ("output_dir", "logging_steps", "device", "save_total_limit"):
            d.pop(k)
        for k, default in _ADDED.items():  # settings added later: absent at their default, so older runs resume
            if d.get(k) == default:
                d.pop(k)
        return d


_ADDED: dict[str, Any] = {"dedupe": False, "problems": "all", "pair_weight": 0.0, "group_size": 4}
