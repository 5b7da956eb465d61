"""Verifier training: value models (vm), outcome (orm) and process (prm) reward models.

``ScorerTrainConfig`` + ``train_scorer`` (library), ``evaluate_scorer`` for a saved scorer,
and the click commands in ``restrl_train.scorer.commands``. A trained scorer is a
``AutoModelForSequenceClassification(num_labels=1)`` directory with ``restrl_scorer.json``
(kind, layout, problem text, ``"output": "sigmoid"``, data hashes) that
``restrl-eval run --scorer DIR`` and vLLM's pooling runner load.
"""
from __future__ import annotations

from restrl_train.scorer.config import ScorerTrainConfig

__all__ = ["ScorerTrainConfig", "evaluate_scorer", "train_scorer"]


def __getattr__(name: str):  # heavy imports (torch, transformers) only when used
    if name == "train_scorer":
        from restrl_train.scorer.trainer import train_scorer

        return train_scorer
    if name == "evaluate_scorer":
        from restrl_train.scorer.scoring import evaluate_scorer

        return evaluate_scorer
    raise AttributeError(name)
