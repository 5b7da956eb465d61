"""Train/validation split by problem.

Why by problem: the official value-model split is random per example, so the states of
one problem land on both sides and the validation loss measures memorised problems. Here
every task id goes to exactly one side. The order is a seeded hash of the task id, so
the split does not depend on file order and a new file only adds problems to either side.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["split_by_problem"]


def split_by_problem(task_ids: Iterable[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """``(train_ids, val_ids)``, disjoint and sorted. At least one problem is held out
    when ``val_fraction > 0`` and there are two or more problems."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1) (got {val_fraction})")
    ids = sorted(set(task_ids))
    order = sorted(ids, key=lambda t: hashlib.sha256(f"restrl-split:{seed}:{t}".encode()).hexdigest())
    n_val = round(len(ids) * val_fraction)
    if val_fraction > 0 and n_val == 0 and len(ids) >= 2:
        n_val = 1
    val = set(order[:n_val])
    return sorted(t for t in ids if t not in val), sorted(val)
