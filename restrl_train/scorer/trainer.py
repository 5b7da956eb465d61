"""Train a vm/orm/prm scorer: ``transformers.Trainer`` on a one-output sequence classifier.

Why plain ``Trainer`` (not TRL): TRL's ``RewardTrainer`` is Bradley-Terry on
chosen/rejected pairs and trl 1.16 has no PRM trainer; value, outcome and step targets
are pointwise probabilities, so a ``compute_loss`` of a few lines is all that differs.
The model is called without ``labels``, so ``config.problem_type`` stays unset and vLLM's
pooling runner applies a sigmoid to the one output, as restrl does (``"output":
"sigmoid"`` in ``restrl_scorer.json``). Fixes over the official trainer: split by
problem, ``config.pad_token_id`` set, explicit truncation, a head learning rate that
moves a fresh head, a bounded loss, the best checkpoint chosen by within-problem
ranking on held-out problems, and a rerun that resumes from the last checkpoint.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from restrl_train.data.records import DataError, LoadedData, Record, load_records
from restrl_train.data.split import split_by_problem
from restrl_train.scorer.config import ScorerTrainConfig
from restrl_train.scorer.encode import Encoder, ScorerDataset, collate, select_records, shape_training
from restrl_train.scorer.evaluate import REPORT_FILE, SPLIT_FILE, heldout_report, write_metadata
from restrl_train.scorer.metrics import ranking_report
from restrl_train.scorer.pairwise import ProblemGroupedSampler, pairwise_loss

log = logging.getLogger(__name__)

__all__ = ["TrainResult", "load_base", "train_scorer"]

CONFIG_FILE = "restrl_train_config.json"


@dataclass(frozen=True)
class TrainResult:
    output_dir: str
    global_step: int
    resumed_from: str | None
    train_examples: int
    val_examples: int
    report: dict[str, Any]
    warning: str | None


def load_base(base: str, dtype: str = "float32", device: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer): ``AutoModelForSequenceClassification(num_labels=1)`` from any
    checkpoint the backends resolve (directory, GGUF alias); pad token set on both."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from restrl_eval.backends.models import load_tokenizer, pick_device, resolve_model

    src = resolve_model(base)
    tokenizer = load_tokenizer(src, padding_side="right")
    model = AutoModelForSequenceClassification.from_pretrained(
        src.path, num_labels=1, dtype=getattr(torch, dtype), **src.hf_kwargs())
    if src.gguf_file:  # dequantized on load: drop the GGUF mark so checkpoints save as plain weights
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.is_quantized = False
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.problem_type = None
    model.config.use_cache = False
    return model.to(pick_device(device)), tokenizer


def _make_trainer_class() -> Any:
    import torch
    from transformers import Trainer

    class ScorerTrainer(Trainer):  # type: ignore[misc]
        """BCE on soft targets (or MSE on the sigmoid); a separate head learning rate."""

        loss_name = "bce"
        head_lr = 1e-3
        pair_weight = 0.0
        group_size = 4

        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            labels = inputs.pop("labels")
            logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
            z, y = logits[:, 0].float(), labels[:, 0].float()
            if self.loss_name == "bce":
                loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
            else:
                loss = torch.nn.functional.mse_loss(torch.sigmoid(z), y)
            if self.pair_weight > 0 and model.training:
                loss = loss + self.pair_weight * pairwise_loss(z, y, labels[:, 1])
            return (loss, {"logits": z}) if return_outputs else loss

        def _get_train_sampler(self, train_dataset: Any = None) -> Any:
            if self.pair_weight <= 0:
                return super()._get_train_sampler(train_dataset)
            ds = train_dataset if train_dataset is not None else self.train_dataset
            return ProblemGroupedSampler([it["labels"][1] for it in ds.items], self.group_size, self.args.seed)

        def create_optimizer(self, model: Any = None) -> Any:
            if getattr(self, "optimizer", None) is None:
                m = model if model is not None else self.model
                prefix = m.base_model_prefix + "."
                named = [(n, p) for n, p in m.named_parameters() if p.requires_grad]
                groups = [
                    {"params": [p for n, p in named if n.startswith(prefix)], "lr": self.args.learning_rate,
                     "weight_decay": self.args.weight_decay},
                    {"params": [p for n, p in named if not n.startswith(prefix)], "lr": self.head_lr,
                     "weight_decay": 0.0},
                ]
                self.optimizer = torch.optim.AdamW([g for g in groups if g["params"]])
            return self.optimizer

    return ScorerTrainer


def _compute_metrics(pred: Any) -> dict[str, float]:
    import numpy as np

    z = np.asarray(pred.predictions, dtype=np.float64).reshape(-1)
    lab = np.asarray(pred.label_ids, dtype=np.float64).reshape(len(z), -1)
    scores = (1.0 / (1.0 + np.exp(-z))).tolist()
    passed = [None if p < 0 else bool(p) for p in lab[:, 2]]
    rep = ranking_report(lab[:, 1].astype(int).tolist(), scores, lab[:, 0].tolist(), passed, ns=())
    return {k: float(v) for k, v in rep.items() if k in ("mse", "spearman", "within_auc", "pairwise_accuracy",
                                                         "select") and v is not None}


def _check_resume(cfg: ScorerTrainConfig, data: LoadedData, out: Path) -> str | None:
    """Return the checkpoint to resume from. With checkpoints present, the settings and
    the data files' hashes must equal the ones they were made with (else an error);
    without, the settings file is (re)written."""
    path = out / CONFIG_FILE
    key = {**cfg.resume_key(), "data_sha256": [f.sha256 for f in data.files]}
    ckpts = sorted((p for p in out.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                   key=lambda p: int(p.name.split("-")[-1]))
    if ckpts and path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        diff = sorted(k for k in set(old) | set(key) if old.get(k) != key.get(k))
        if diff:
            raise DataError(f"{out}: holds a run with other settings ({', '.join(diff)}); "
                            f"pass another --out or remove it")
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return str(ckpts[-1]) if ckpts else None


def _split(cfg: ScorerTrainConfig, data: LoadedData) -> tuple[list[Record], list[Record], list[str]]:
    train_ids, val_ids = split_by_problem((r.task_id for r in data.records), cfg.val_fraction, cfg.seed)
    if not train_ids or not val_ids:
        raise DataError(f"{data.files[0].path}: need at least 2 problems to hold some out "
                        f"(found {len(train_ids) + len(val_ids)})")
    held = set(val_ids)
    return ([r for r in data.records if r.task_id not in held], [r for r in data.records if r.task_id in held],
            val_ids)


def _training_args(cfg: ScorerTrainConfig, out: Path) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.lr, num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps, eval_strategy="steps", eval_steps=cfg.eval_steps, save_strategy="steps",
        save_steps=cfg.eval_steps, load_best_model_at_end=True, metric_for_best_model="select",
        greater_is_better=True, save_total_limit=cfg.save_total_limit, seed=cfg.seed, data_seed=cfg.seed,
        logging_steps=cfg.logging_steps, report_to=[], remove_unused_columns=False, label_names=["labels"],
        use_cpu=cfg.device == "cpu", bf16=cfg.dtype == "bfloat16", fp16=cfg.dtype == "float16",
        dataloader_num_workers=0, save_only_model=False,
    )


def train_scorer(cfg: ScorerTrainConfig, callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train, keep the best checkpoint in ``cfg.output_dir`` with its tokenizer,
    ``restrl_scorer.json``, ``split.json`` and ``eval_report.json``; resume when the
    directory holds checkpoints of the same settings."""
    from transformers import set_seed

    out = Path(cfg.output_dir)
    data = load_records(cfg.data, cfg.problem_field)
    if data.warning:
        log.warning("WARNING: %s", data.warning)
    resume = _check_resume(cfg, data, out)
    train_recs, val_recs, val_ids = _split(cfg, data)
    set_seed(cfg.seed)
    model, tokenizer = load_base(cfg.base, cfg.dtype, cfg.device)
    encoder = Encoder(tokenizer, cfg.layout, cfg.max_length, cfg.truncation, cfg.min_code_tokens)
    groups = {t: i for i, t in enumerate(sorted({r.task_id for r in data.records}))}
    # prm labels are one per distinct prefix already; merging programs first would reweight their estimates
    shaped = shape_training(train_recs, cfg.dedupe and cfg.kind != "prm", cfg.problems)
    train_ds = ScorerDataset(select_records(cfg.kind, shaped, cfg.prm_label), encoder, groups)
    val_ds = ScorerDataset(select_records(cfg.kind, val_recs, cfg.prm_label), encoder, groups)
    if not len(train_ds) or not len(val_ds):
        raise DataError(f"{data.files[0].path}: no {cfg.kind} examples on the "
                        f"{'training' if not len(train_ds) else 'held-out'} side")
    cls = _make_trainer_class()
    trainer = cls(model=model, args=_training_args(cfg, out), train_dataset=train_ds, eval_dataset=val_ds,
                  data_collator=partial(collate, tokenizer.pad_token_id), processing_class=tokenizer,
                  compute_metrics=_compute_metrics, callbacks=list(callbacks))
    trainer.loss_name, trainer.head_lr = cfg.loss, cfg.head_lr
    trainer.pair_weight, trainer.group_size = cfg.pair_weight, cfg.group_size
    if resume:
        log.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume)
    model = trainer.model
    model.config.problem_type = None
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.use_cache = True
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    (out / SPLIT_FILE).write_text(json.dumps({"seed": cfg.seed, "val_fraction": cfg.val_fraction,
                                              "val_task_ids": val_ids}, indent=1) + "\n", encoding="utf-8")
    report = heldout_report(model, encoder, cfg.kind, val_recs, cfg.prm_label, cfg.batch_size)
    report.update({"scorer": str(out), "best_checkpoint": trainer.state.best_model_checkpoint,
                   "global_step": trainer.state.global_step, "eval_benchmark_warning": data.warning})
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_metadata(out, cfg, data, {"train_examples": len(train_ds), "val_examples": len(val_ds),
                                    "val_problems": len(val_ids), "seed": cfg.seed})
    return TrainResult(str(out), trainer.state.global_step, resume, len(train_ds), len(val_ds), report, data.warning)
