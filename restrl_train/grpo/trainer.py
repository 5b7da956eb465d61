"""One GRPO training round on TRL 1.16's ``GRPOTrainer`` with restrl's sandbox reward.

Why a thin wrapper: TRL owns the algorithm (generation, group advantages, clipping, KL,
DeepSpeed/vLLM scale-out); restrl supplies the data, the reward and the bookkeeping.
TRL 1.16 specifics handled here: the model is passed as a saved directory (with beta > 0
TRL rebuilds the reference model from the config's path), the tokenizer pads on the
left, ``use_cpu=True, bf16=False`` on CPU, and prompts are plain strings already rendered
with the chat template and the code-fence prefill (TRL then tokenizes them as they are).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restrl_train.grpo.config import GrpoRunConfig, trl_kwargs
from restrl_train.grpo.reward import Judge, Shaping, make_reward_func

log = logging.getLogger(__name__)

__all__ = ["RoundResult", "train_round", "CURVE_KEYS"]

CURVE_KEYS = ("loss", "reward", "reward_std", "frac_reward_zero_std", "kl", "grad_norm", "learning_rate")


@dataclass(frozen=True)
class RoundResult:
    checkpoint: str
    steps: int
    history: tuple[dict[str, Any], ...]  # one row per logged step: CURVE_KEYS present in TRL's logs
    args: dict[str, Any]  # the GRPOConfig fields that define the method (recorded in train.json)


METHOD_ARGS = ("loss_type", "beta", "epsilon", "epsilon_high", "mask_truncated_completions", "scale_rewards",
               "learning_rate", "num_generations", "temperature", "max_completion_length", "use_vllm", "bf16")


def load_tokenizer(model_dir: str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def train_round(cfg: GrpoRunConfig, model_dir: str, dataset: Any, out_dir: str | Path, judge: Judge,
                seed: int) -> RoundResult:
    """Train on ``dataset`` (prompt + ReST columns) from ``model_dir``; save to
    ``out_dir/checkpoint`` (model + tokenizer), loadable by ``restrl-eval run --model``."""
    from trl import GRPOConfig, GRPOTrainer

    out = Path(out_dir)
    tok = load_tokenizer(model_dir)
    args = GRPOConfig(**trl_kwargs(cfg, str(out / "trl"), seed))
    reward = make_reward_func(judge, shaping=Shaping(cfg.stop_bonus, cfg.trailing_penalty))
    trainer = GRPOTrainer(model=model_dir, reward_funcs=[reward], args=args, train_dataset=dataset,
                          processing_class=tok)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # the curves are written to CSV; keep stdout for results
    trainer.train()
    ckpt = out / "checkpoint"
    trainer.save_model(str(ckpt))  # main process only under accelerate/DeepSpeed
    if trainer.is_world_process_zero():
        tok.save_pretrained(str(ckpt))
    rows = []
    for entry in trainer.state.log_history:
        if "step" in entry and any(k in entry for k in ("loss", "reward")):
            rows.append({"step": entry["step"], **{k: entry[k] for k in CURVE_KEYS if k in entry}})
    return RoundResult(str(ckpt), int(trainer.state.global_step), tuple(rows),
                       {k: getattr(args, k) for k in METHOD_ARGS})
