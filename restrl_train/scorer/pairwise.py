"""A within-problem pairwise term for scorer training, and batches of whole problems to feed it.

Why: best-of-N and MCTS only ever compare programs of ONE problem, but the pointwise loss
(BCE on each program's reward) spends most of its gradient on which problems are hard:
a pool of 8 judged programs of one problem contributes 8 independent targets, and the
ranking among them is learned only as a side effect. On the ``mini`` benchmark that
pointwise loss alone reached a held-out within-problem AUC of only about 0.6 in the
budget a laptop pipeline allows (see results/notes/mini-verifiers.md). The pairwise term
is the Bradley-Terry (RankNet) loss ``softplus(-(z_i - z_j))`` over the pairs of one
problem whose targets differ (``i`` the better), the loss TRL's ``RewardTrainer`` uses on
chosen/rejected pairs, here formed inside each batch. It needs batches that hold several
programs of the same problem, hence ``problem_grouped_order``.
"""
from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["ProblemGroupedSampler", "pairwise_loss", "problem_grouped_order"]


def problem_grouped_order(groups: Sequence[int], group_size: int, seed: int) -> list[int]:
    """A permutation of ``range(len(groups))`` in which the examples of each problem come
    in runs of up to ``group_size`` (problems and runs shuffled, seeded), so consecutive
    batches hold several programs of each problem they touch."""
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1 (got {group_size})")
    rng = random.Random(seed)
    by: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        by.setdefault(int(g), []).append(i)
    runs: list[list[int]] = []
    for g in sorted(by):
        items = by[g][:]
        rng.shuffle(items)
        runs += [items[k:k + group_size] for k in range(0, len(items), group_size)]
    rng.shuffle(runs)
    return [i for run in runs for i in run]


class ProblemGroupedSampler:
    """Sampler (``__iter__``/``__len__``) yielding ``problem_grouped_order``; a new seeded
    order each epoch."""

    def __init__(self, groups: Sequence[int], group_size: int, seed: int) -> None:
        self.groups, self.group_size, self.seed, self.epoch = list(groups), group_size, seed, 0

    def __iter__(self) -> Iterator[int]:
        order = problem_grouped_order(self.groups, self.group_size, self.seed + self.epoch)
        self.epoch += 1
        return iter(order)

    def __len__(self) -> int:
        return len(self.groups)


def pairwise_loss(z: Any, targets: Any, groups: Any) -> Any:
    """Mean ``softplus(-(z_i - z_j))`` over the batch's pairs of one problem with
    ``targets[i] > targets[j]``; 0 (keeping the graph) when the batch has no such pair."""
    import torch

    better = (targets[:, None] - targets[None, :]) > 0
    mask = better & (groups[:, None] == groups[None, :])
    if not bool(mask.any()):
        return z.sum() * 0.0
    return torch.nn.functional.softplus(-(z[:, None] - z[None, :]))[mask].mean()
