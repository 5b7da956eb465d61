"""Score held-out programs with a trained scorer and build the JSON report; the
``restrl_scorer.json`` metadata file.

Why programs are scored as the strategies score them: ``orm`` and ``vm-mcts`` read one
score per complete program, ``prm`` the minimum over its line-prefix steps, so the
report's best-of-N and within-problem AUC say what the scorer does in a search.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from restrl_train.data.records import Record
from restrl_train.scorer.encode import Encoder, collate, select_records
from restrl_train.scorer.metrics import ranking_report

__all__ = ["METADATA_FILE", "REPORT_FILE", "SPLIT_FILE", "heldout_report", "predict", "read_metadata",
           "write_metadata"]

METADATA_FILE = "restrl_scorer.json"
REPORT_FILE = "eval_report.json"
SPLIT_FILE = "split.json"


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def predict(model: Any, encoder: Encoder, pairs: Sequence[tuple[str, str]], batch_size: int = 16) -> list[float]:
    """sigmoid(logit) for each (problem, code), batched by length with right padding."""
    import torch

    encoded = [encoder(p, c, f"example {i}") for i, (p, c) in enumerate(pairs)]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out = [0.0] * len(encoded)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        batch = collate(encoder.tokenizer.pad_token_id, [{"input_ids": encoded[i]} for i in idx])
        with torch.inference_mode():
            logits = model(**{k: v.to(device) for k, v in batch.items()}).logits[:, 0].float().cpu()
        for row, i in enumerate(idx):
            out[i] = _sigmoid(float(logits[row]))
    model.train(was_training)
    return out


def _program_scores(model: Any, encoder: Encoder, kind: str, programs: Sequence[Record],
                    batch_size: int) -> list[float]:
    if kind != "prm":
        return predict(model, encoder, [(r.problem, r.code) for r in programs], batch_size)
    from restrl_eval.strategies.common import split_steps

    pairs: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for r in programs:
        steps = split_steps(r.code)
        start = len(pairs)
        pairs += [(r.problem, "\n".join(steps[: i + 1])) for i in range(len(steps))]
        spans.append((start, len(pairs)))
    flat = predict(model, encoder, pairs, batch_size)
    return [min(flat[a:b]) if b > a else 0.0 for a, b in spans]


def heldout_report(model: Any, encoder: Encoder, kind: str, records: Sequence[Record],
                   prm_label: str = "soft", batch_size: int = 16) -> dict[str, Any]:
    """Metrics on ``records`` (held-out problems): ``targets`` on the kind's own examples
    (MSE, Spearman), ``programs`` on complete programs scored as the strategy would
    (within-problem AUC, pairwise accuracy, best-of-N vs random and oracle)."""
    examples = select_records(kind, records, prm_label)
    ex_scores = predict(model, encoder, [(r.problem, r.code) for r in examples], batch_size)
    programs = [r for r in records if r.kind in ("program", "outcome")]
    pr_scores = _program_scores(model, encoder, kind, programs, batch_size)
    return {
        "kind": kind,
        "targets": ranking_report([r.task_id for r in examples], ex_scores, [r.target for r in examples],
                                  [r.passed for r in examples]),
        "programs": ranking_report([r.task_id for r in programs], pr_scores, [r.target for r in programs],
                                   [r.passed for r in programs]),
    }


def write_metadata(out_dir: str | Path, cfg: Any, data: Any, extra: dict[str, Any] | None = None) -> Path:
    """``restrl_scorer.json``: what restrl's scorer loader needs (layout, which problem
    text, output transform) and where the scorer came from."""
    meta = {
        "format": 1,
        "kind": cfg.kind,
        "layout": cfg.layout,
        "problem_field": data.problem_field,
        "output": "sigmoid",
        "base": cfg.base,
        "loss": cfg.loss,
        "max_length": cfg.max_length,
        "truncation": cfg.truncation,
        "min_code_tokens": cfg.min_code_tokens,
        "prm_label": cfg.prm_label if cfg.kind == "prm" else None,
        "prm_aggregation": "min" if cfg.kind == "prm" else None,
        "data": [{"path": f.path, "sha256": f.sha256, "records": f.records, "bench": f.bench} for f in data.files],
        "eval_benchmarks": list(data.eval_benchmarks),
        "eval_benchmark_warning": data.warning,
        **(extra or {}),
    }
    path = Path(out_dir) / METADATA_FILE
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def read_metadata(scorer_dir: str | Path) -> dict[str, Any]:
    path = Path(scorer_dir) / METADATA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (not a scorer trained by restrl-train)")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
