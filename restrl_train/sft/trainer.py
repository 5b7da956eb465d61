"""Supervised fine-tuning with the transformers ``Trainer``: loss on solution + EOS only.

Why ``Trainer`` and not a hand loop: it brings seeded data order, AdamW with warmup and
a fully annealed schedule, checkpoints that hold optimizer, scheduler and RNG state (so a
killed run resumes where it stopped, ``resume_from_checkpoint``), and a progress bar.
What is ours: the records, the tokenizer made on the fly for a model trained from
scratch, the label mask (prompt tokens are ``-100``), and the output layout: the final
model is a normal HF checkpoint directory (``config.json``, safetensors, tokenizer,
generation config) that ``restrl-eval run --model DIR`` loads.

Prompt and solution are tokenized separately and joined, exactly as the policy later
sees them at decoding time (the prompt alone, then its own tokens).
"""
from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from restrl_train.sft.config import SFTConfig
from restrl_train.sft.records import Record, load_records

log = logging.getLogger(__name__)

__all__ = ["SFTError", "SFTResult", "train_sft", "encode_records"]

SUMMARY = "sft_summary.json"
CONFIG = "sft_config.json"
LOG = "sft_log.jsonl"


class SFTError(ValueError):
    """A refused SFT run (bad settings, an output directory of another run). One line."""


@dataclass(frozen=True)
class SFTResult:
    """What a finished run reports (also written to ``sft_summary.json``)."""

    output_dir: str
    steps: int
    records: int
    skipped_too_long: int
    parameters: int
    first_loss: float | None
    last_loss: float | None
    wall_s: float
    resumed_from: str | None = None
    reused: bool = False


def encode_records(records: Sequence[Record], tokenizer: Any, max_length: int) -> tuple[list[dict[str, list[int]]], int]:
    """Token ids and labels per record (prompt labels are -100); too-long records skipped."""
    eos = tokenizer.eos_token_id
    prompts = tokenizer([r.prompt for r in records], add_special_tokens=False)["input_ids"]
    answers = tokenizer([r.solution for r in records], add_special_tokens=False)["input_ids"]
    out, skipped = [], 0
    for p, a in zip(prompts, answers):
        ids = p + a + [eos]
        if len(ids) > max_length:
            skipped += 1
            continue
        out.append({"input_ids": ids, "labels": [-100] * len(p) + a + [eos]})
    return out, skipped


class _Collator:
    """Right padding with the pad token; padded labels are -100."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(r["input_ids"]) for r in rows)
        ids = [r["input_ids"] + [self.pad_id] * (width - len(r["input_ids"])) for r in rows]
        labels = [r["labels"] + [-100] * (width - len(r["labels"])) for r in rows]
        mask = [[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in rows]
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


def _check_output_dir(cfg: SFTConfig, out: Path) -> dict[str, Any] | None:
    """The finished summary if this run is done; refuse a directory of another run."""
    saved = out / CONFIG
    if saved.is_file():
        try:
            before = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SFTError(f"{saved}: unreadable ({exc}); remove the directory to start over") from None
        diff = sorted(k for k, v in cfg.result_settings().items() if before.get(k) != v)
        if diff:
            raise SFTError(f"{out} holds an SFT run with other settings ({', '.join(diff)} differ); "
                           "pick another --output-dir")
    summary = out / SUMMARY
    return json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else None


def _tokenizer(cfg: SFTConfig, out: Path, records: Sequence[Record]) -> Any:
    from transformers import AutoTokenizer

    from restrl_train.sft.tokenizer import train_line_tokenizer

    if cfg.model:
        tok = AutoTokenizer.from_pretrained(cfg.model)
        if tok.eos_token_id is None:
            raise SFTError(f"model {cfg.model}: its tokenizer has no EOS token to end answers with")
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token  # labels mask padding by position, not by id
        return tok
    if (out / "tokenizer.json").is_file():  # a resumed run keeps the exact vocabulary
        return AutoTokenizer.from_pretrained(str(out))
    return train_line_tokenizer((r.prompt + r.solution for r in records), cfg.vocab_size, out)


def _model(cfg: SFTConfig, tokenizer: Any) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(cfg.seed)
    if cfg.model:
        return AutoModelForCausalLM.from_pretrained(cfg.model, dtype=torch.float32)
    # Qwen2's architecture (RMSNorm, SwiGLU, RoPE, attention biases, tied embeddings) under the
    # ``llama`` model type: transformers 5 loads any ``qwen2`` checkpoint's tokenizer as
    # Qwen2Tokenizer, which replaces the saved pre-tokenizer with its own (digits one by one),
    # so the policy would be decoded with other token ids than it was trained on.
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads, num_key_value_heads=cfg.num_heads,
        attention_bias=True, max_position_embeddings=max(1024, cfg.max_length), tie_word_embeddings=True,
        rms_norm_eps=1e-6, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    return AutoModelForCausalLM.from_config(config)


def _total_steps(cfg: SFTConfig, n: int) -> int:
    return cfg.max_steps or max(1, math.ceil(cfg.epochs * math.ceil(n / cfg.batch_size)))


def _last_checkpoint(ckpt_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None


def _trainer(cfg: SFTConfig, model: Any, tokenizer: Any, rows: list[dict[str, list[int]]], out: Path) -> Any:
    from transformers import TrainerCallback, TrainingArguments

    _AnswerLossTrainer = _trainer_class()

    steps = _total_steps(cfg, len(rows))

    class _LogFile(TrainerCallback):  # append each logged loss as it comes (survives a crash)
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "loss" in logs:
                with open(out / LOG, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"step": state.global_step, **logs}) + "\n")

    args = TrainingArguments(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=cfg.batch_size, max_steps=steps,
        learning_rate=cfg.learning_rate, lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=math.ceil(cfg.warmup_ratio * steps), weight_decay=cfg.weight_decay, seed=cfg.seed,
        data_seed=cfg.seed, save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=2,
        logging_steps=cfg.logging_steps, logging_first_step=True, report_to="none",
        disable_tqdm=not cfg.progress, use_cpu=_cpu_only(), dataloader_num_workers=0,
        dataloader_pin_memory=False,
    )
    return _AnswerLossTrainer(model=model, args=args, train_dataset=rows,
                              data_collator=_Collator(tokenizer.pad_token_id), callbacks=[_LogFile()])


def _answer_loss(model: Any, inputs: dict[str, Any]) -> Any:
    """Mean next-token cross-entropy over the answer tokens only. The output head runs
    only at the positions that predict an answer token: on a tiny model with a 4k
    vocabulary the head over every prompt position would cost more than the layers."""
    import torch

    labels = inputs["labels"]
    hidden = model.model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
    target = labels[:, 1:]
    keep = target != -100
    logits = model.lm_head(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), target[keep])


def _trainer_class() -> Any:
    from transformers import Trainer

    class AnswerLossTrainer(Trainer):
        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            loss = _answer_loss(model, inputs)
            return (loss, None) if return_outputs else loss

    return AnswerLossTrainer


def _cpu_only() -> bool:
    import torch

    return not torch.cuda.is_available()


def _save_final(model: Any, tokenizer: Any, out: Path) -> None:
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def train_sft(cfg: SFTConfig) -> SFTResult:
    """Train (or resume, or reuse a finished run in ``cfg.output_dir``) and return its summary."""
    if not cfg.output_dir:
        raise SFTError("output_dir is required")
    out = Path(cfg.output_dir).expanduser()
    done = _check_output_dir(cfg, out)
    if done is not None:
        return SFTResult(**{**done, "reused": True})
    t0 = time.perf_counter()
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    records = load_records(cfg.data, cfg.data_limit)
    settings = cfg.result_settings()
    warning = _eval_set_warning(cfg.data)
    if warning:
        log.warning("%s", warning)
        settings["eval_data_warning"] = warning  # recorded next to the weights, not in the digest
    out.mkdir(parents=True, exist_ok=True)
    (out / CONFIG).write_text(json.dumps(settings, indent=1, sort_keys=True), encoding="utf-8")
    tokenizer = _tokenizer(cfg, out, records)
    rows, skipped = encode_records(records, tokenizer, cfg.max_length)
    if not rows:
        raise SFTError(f"every record is longer than max_length={cfg.max_length} tokens")
    model = _model(cfg, tokenizer)
    trainer = _trainer(cfg, model, tokenizer, rows, out)
    resume = _last_checkpoint(out / "checkpoints")
    trainer.train(resume_from_checkpoint=resume)
    _save_final(trainer.model, tokenizer, out)
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    result = SFTResult(str(out), int(trainer.state.global_step), len(rows), skipped, int(model.num_parameters()),
                       losses[0] if losses else None, losses[-1] if losses else None,
                       round(time.perf_counter() - t0, 2), resume)
    (out / SUMMARY).write_text(json.dumps(asdict(result), indent=1), encoding="utf-8")
    return result


def _eval_set_warning(data: str) -> str | None:
    """SFT on an evaluation benchmark's reference solutions (humaneval+, mini-test, ...)
    makes every later score on that benchmark meaningless: say so and record it."""
    from restrl_train.data.records import eval_benchmark_names, eval_data_warning

    if Path(data).expanduser().exists() or data.endswith((".jsonl", ".json")):
        return None  # a record file: its provenance is the user's
    return eval_data_warning(eval_benchmark_names(data), "SFT data")
