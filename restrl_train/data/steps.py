"""Process (step) labels for PRM training, Math-Shepherd style, from judged programs.

A step state is a line prefix of a program, cut exactly as the ``prm`` strategy cuts it at
inference (``restrl_eval.strategies.common.split_steps``: one step per non-blank line).
Its label is a Monte-Carlo estimate of success from that prefix: over every judged
program of the same problem that starts with the prefix (the prefix's continuations),

- ``soft``: the mean execution reward (fraction of tests passed) of those programs;
- ``hard``: 1 if any of them passes every test, else 0 (Math-Shepherd's hard estimate).

Why from the same pools: MCTS/rollout data (``collect-values`` program records) holds
many continuations of each expanded prefix, so its shared prefixes get real estimates.
Independent samples (``collect-outcomes``) share few prefixes past the first lines; a
prefix with one continuation simply gets that program's outcome. ``visits`` records the
number of continuations behind each label.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from restrl_train.data.records import Record

__all__ = ["LABELS", "step_labels"]

LABELS = ("soft", "hard")


def _split_steps(code: str) -> list[str]:
    from restrl_eval.strategies.common import split_steps

    return split_steps(code)


def step_labels(records: Iterable[Record], label: str = "soft") -> list[Record]:
    """``step`` records (one per distinct problem and line prefix) from the complete
    programs in ``records`` (kinds ``program`` and ``outcome``; others are ignored)."""
    if label not in LABELS:
        raise ValueError(f"unknown step label {label!r} (known: {', '.join(LABELS)})")
    # (task, prefix) -> [rewards], [passed], first record (for problem text and location)
    rewards: dict[tuple[str, str], list[float]] = defaultdict(list)
    passes: dict[tuple[str, str], list[bool]] = defaultdict(list)
    first: dict[tuple[str, str], Record] = {}
    order: list[tuple[str, str]] = []
    for rec in records:
        if rec.kind not in ("program", "outcome"):
            continue
        steps: Sequence[str] = _split_steps(rec.code)
        for i in range(len(steps)):
            key = (rec.task_id, "\n".join(steps[: i + 1]))
            if key not in first:
                first[key] = rec
                order.append(key)
            rewards[key].append(rec.target)
            passes[key].append(bool(rec.passed))
    out: list[Record] = []
    for key in order:
        src = first[key]
        rs, ps = rewards[key], passes[key]
        target = sum(rs) / len(rs) if label == "soft" else float(any(ps))
        out.append(Record(key[0], "step", src.problem, key[1], target, None, len(rs), src.where))
    return out
