"""``evaluate_scorer``: the held-out report of a saved scorer directory.

Why it re-reads ``restrl_scorer.json``: the layout, problem text, truncation and kind
must be the ones the scorer was trained with, and ``split.json`` names the problems it
never saw, so a later ``eval-scorer`` on the same files measures held-out quality only.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from restrl_train.data.records import DataError, load_records
from restrl_train.scorer.encode import Encoder
from restrl_train.scorer.evaluate import SPLIT_FILE, heldout_report, read_metadata

__all__ = ["evaluate_scorer", "load_scorer_dir"]


def load_scorer_dir(scorer_dir: str | Path, device: str | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """(model, tokenizer, metadata) of a trained scorer directory."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from restrl_eval.backends.models import load_tokenizer, pick_device, resolve_model

    meta = read_metadata(scorer_dir)
    src = resolve_model(str(scorer_dir))
    tokenizer = load_tokenizer(src, padding_side="right")
    model = AutoModelForSequenceClassification.from_pretrained(src.path, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model.to(pick_device(device)), tokenizer, meta


def evaluate_scorer(scorer_dir: str | Path, data: Sequence[str], all_tasks: bool = False,
                    batch_size: int = 16, device: str | None = None) -> dict[str, Any]:
    model, tokenizer, meta = load_scorer_dir(scorer_dir, device)
    loaded = load_records(data, meta.get("problem_field", "auto"))
    records = list(loaded.records)
    split_path = Path(scorer_dir) / SPLIT_FILE
    if not all_tasks:
        if not split_path.is_file():
            raise DataError(f"{split_path}: no such file; pass --all-tasks to score every problem")
        held = set(json.loads(split_path.read_text(encoding="utf-8"))["val_task_ids"])
        records = [r for r in records if r.task_id in held]
        if not records:
            raise DataError(f"{loaded.files[0].path}: none of the scorer's held-out problems is in the data; "
                            f"pass --all-tasks for other problems")
    encoder = Encoder(tokenizer, meta["layout"], int(meta.get("max_length", 1024)),
                      meta.get("truncation", "code-left"), int(meta.get("min_code_tokens", 32)))
    report = heldout_report(model, encoder, meta["kind"], records, meta.get("prm_label") or "soft", batch_size)
    report.update({"scorer": str(scorer_dir), "tasks": "all" if all_tasks else "held-out",
                   "data": [f.to_dict() for f in loaded.files], "eval_benchmark_warning": loaded.warning})
    return report
