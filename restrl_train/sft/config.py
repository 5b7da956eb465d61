"""``SFTConfig``: every setting of ``restrl-train sft``, with its help text and checks.

Why a dataclass with per-field help (TRL's ``SFTConfig`` shape): the CLI options are
generated from these fields (``restrl_train.sft.cli``), the tiny-policy cache key is a
hash of them, and a library caller builds the same object, so the three cannot drift.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["SFTConfig", "RESULT_FIELDS"]


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class SFTConfig:
    """Supervised fine-tuning of a causal LM on ``{prompt, solution}`` records."""

    data: str = _f("mini-train", "A JSONL file of {\"prompt\", \"solution\"} records, or a benchmark name whose "
                                 "tasks carry a reference solution (mini-train, mini-val, ...).")
    output_dir: str = _f("", "Where the final checkpoint (a normal HF model directory), the checkpoints to "
                             "resume from (checkpoints/) and sft_summary.json go.")
    model: str = _f("", "A causal-LM checkpoint directory to fine-tune; empty: a new Qwen2-style model from "
                        "scratch with a tokenizer trained on the data.")
    data_limit: int = _f(0, "Use only the first N records (0: all).")
    vocab_size: int = _f(4096, "From scratch: BPE vocabulary size (plus the pad and EOS tokens).")
    num_layers: int = _f(4, "From scratch: transformer layers.")
    hidden_size: int = _f(256, "From scratch: model width.")
    num_heads: int = _f(4, "From scratch: attention heads (also key/value heads).")
    intermediate_size: int = _f(768, "From scratch: MLP width.")
    max_length: int = _f(384, "Records longer than this many tokens (prompt + solution + EOS) are skipped.")
    epochs: float = _f(1.0, "Passes over the data (ignored when max_steps > 0).")
    max_steps: int = _f(0, "Optimizer steps; 0: derived from epochs.")
    batch_size: int = _f(32, "Records per optimizer step.")
    learning_rate: float = _f(1.5e-3, "Peak learning rate (AdamW).")
    warmup_ratio: float = _f(0.05, "Fraction of the steps spent warming the learning rate up.")
    lr_scheduler: str = _f("cosine", "Learning-rate schedule after warmup (a transformers scheduler name); "
                                     "cosine anneals it to 0 by the last step.")
    weight_decay: float = _f(0.01, "AdamW weight decay.")
    seed: int = _f(0, "Seed of the weights, the data order and everything else random.")
    save_steps: int = _f(100, "Save a checkpoint every N steps (a rerun resumes from the last one).")
    logging_steps: int = _f(20, "Record the training loss every N steps (sft_log.jsonl).")
    threads: int = _f(0, "CPU threads for torch (0: torch's default).")
    progress: bool = _f(True, "Show a progress bar.")

    def __post_init__(self) -> None:
        positive = ("vocab_size", "num_layers", "hidden_size", "num_heads", "intermediate_size", "max_length",
                    "batch_size", "save_steps", "logging_steps")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 (got {getattr(self, name)})")
        for name in ("data_limit", "max_steps", "threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (got {getattr(self, name)})")
        if not self.data:
            raise ValueError("data must name a JSONL file or a benchmark")
        if self.max_steps == 0 and not self.epochs > 0:
            raise ValueError(f"epochs must be > 0 when max_steps is 0 (got {self.epochs})")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0 (got {self.learning_rate})")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1) (got {self.warmup_ratio})")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0 (got {self.weight_decay})")
        if not self.model and self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must be a multiple of num_heads ({self.num_heads})")
        if self.vocab_size < 300:
            raise ValueError(f"vocab_size must be at least 300 (got {self.vocab_size})")

    def result_settings(self) -> dict[str, Any]:
        """The fields that change the trained weights (not where they go, nor speed or display)."""
        return {k: v for k, v in asdict(self).items() if k in RESULT_FIELDS}

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.result_settings(), sort_keys=True).encode()).hexdigest()[:16]


RESULT_FIELDS = tuple(f.name for f in fields(SFTConfig)
                      if f.name not in ("output_dir", "threads", "progress", "save_steps", "logging_steps"))
