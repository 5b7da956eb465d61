"""Scorer quality on held-out problems, with the ranking metrics that decide search.

Why within-problem: a scorer that only learned which problems are hard fits the targets
(low MSE, high Spearman across problems) yet cannot choose between two programs of the
same problem, which is all best-of-N and MCTS ask of it; such a ranker gets worse with
more candidates. So the primary metric is the **within-problem AUC** of passing vs
failing programs (the mean over problems that have both of the per-problem
Mann-Whitney AUC; ties count one half), next to within-problem pairwise accuracy on
pairs with different targets, and best-of-N pass@1 against random choice and the oracle.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

__all__ = ["best_of_n", "bootstrap_ci", "pairwise_accuracy", "per_problem_auc", "ranking_report",
           "selection_score", "spearman", "within_problem_auc"]


def _groups(groups: Sequence[Any], *cols: Sequence[Any]) -> dict[Any, list[tuple[Any, ...]]]:
    out: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    for i, g in enumerate(groups):
        out[g].append(tuple(c[i] for c in cols))
    return out


def _ordered(a: float, b: float) -> float:
    """1 when a > b, 0.5 on a tie, else 0."""
    return 1.0 if a > b else (0.5 if a == b else 0.0)


def per_problem_auc(groups: Sequence[Any], scores: Sequence[float], passed: Sequence[bool | None]) -> list[float]:
    """AUC of passing over failing programs for each problem that has both."""
    aucs = []
    for rows in _groups(groups, scores, passed).values():
        pos = [s for s, p in rows if p is True]
        neg = [s for s, p in rows if p is False]
        if pos and neg:
            aucs.append(sum(_ordered(a, b) for a in pos for b in neg) / (len(pos) * len(neg)))
    return aucs


def within_problem_auc(groups: Sequence[Any], scores: Sequence[float],
                       passed: Sequence[bool | None]) -> tuple[float | None, int]:
    """(mean per-problem AUC of passing over failing programs, problems counted)."""
    aucs = per_problem_auc(groups, scores, passed)
    return (sum(aucs) / len(aucs) if aucs else None), len(aucs)


def bootstrap_ci(values: Sequence[float], reps: int = 2000, seed: int = 0) -> list[float] | None:
    """95% percentile bootstrap interval of the mean (problems resampled), seeded."""
    import random

    if len(values) < 2:
        return None
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=len(values))) / len(values) for _ in range(reps))
    return [means[int(0.025 * reps)], means[int(0.975 * reps) - 1]]


def pairwise_accuracy(groups: Sequence[Any], scores: Sequence[float],
                      targets: Sequence[float]) -> tuple[float | None, int]:
    """(share of same-problem pairs with different targets that the scores order the
    same way, pairs counted); score ties count one half."""
    hits, pairs = 0.0, 0
    for rows in _groups(groups, scores, targets).values():
        for i in range(len(rows)):
            for j in range(i + 1, len(rows)):
                (si, ti), (sj, tj) = rows[i], rows[j]
                if ti != tj:
                    pairs += 1
                    hits += _ordered(si, sj) if ti > tj else _ordered(sj, si)
    return (hits / pairs if pairs else None), pairs


def _ranks(xs: Sequence[float]) -> list[float]:
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho (Pearson on average ranks); None when either side is constant."""
    if len(x) < 2:
        return None
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / math.sqrt(vx * vy) if vx > 0 and vy > 0 else None


def best_of_n(groups: Sequence[Any], scores: Sequence[float], passed: Sequence[bool | None],
              n: int) -> dict[str, Any]:
    """pass@1 of the top-scored program in disjoint windows of ``n`` programs of each
    pool (in pool order), next to a random choice (the window's pass rate) and the
    oracle (any passes). Tied top scores count as a random pick among them (so a constant
    scorer scores exactly as random). Problems weigh equally; smaller pools are skipped."""
    per: list[tuple[float, float, float]] = []
    for rows in _groups(groups, scores, passed).values():
        rows = [r for r in rows if r[1] is not None]
        wins = [rows[k:k + n] for k in range(0, len(rows) - n + 1, n)]
        if not wins:
            continue
        pick = rand = orc = 0.0
        for w in wins:
            top = max(s for s, _ in w)
            tied = [bool(p) for s, p in w if s == top]
            pick += sum(tied) / len(tied)
            rand += sum(bool(p) for _, p in w) / n
            orc += float(any(bool(p) for _, p in w))
        per.append((pick / len(wins), rand / len(wins), orc / len(wins)))
    if not per:
        return {"n": n, "problems": 0, "scorer": None, "random": None, "oracle": None}
    return {"n": n, "problems": len(per), "scorer": sum(p[0] for p in per) / len(per),
            "random": sum(p[1] for p in per) / len(per), "oracle": sum(p[2] for p in per) / len(per)}


def selection_score(auc: float | None, pairwise: float | None, mse: float) -> float:
    """What picks the best checkpoint: within-problem AUC, else within-problem pairwise
    accuracy (data without pass/fail, e.g. PRM steps), else -MSE."""
    if auc is not None:
        return auc
    return pairwise if pairwise is not None else -mse


def ranking_report(groups: Sequence[Any], scores: Sequence[float], targets: Sequence[float],
                   passed: Sequence[bool | None], ns: Sequence[int] = (4, 16)) -> dict[str, Any]:
    """Every metric on one set of scored examples (scores already in [0, 1])."""
    mse = sum((s - t) ** 2 for s, t in zip(scores, targets)) / max(len(scores), 1)
    aucs = per_problem_auc(groups, scores, passed)
    auc = sum(aucs) / len(aucs) if aucs else None
    pw, pairs = pairwise_accuracy(groups, scores, targets)
    return {"examples": len(scores), "problems": len(set(groups)), "mse": mse,
            "spearman": spearman(scores, targets), "within_auc": auc, "within_auc_problems": len(aucs),
            "within_auc_ci95": bootstrap_ci(aucs) if ns else None,
            "pairwise_accuracy": pw, "pairs": pairs, "select": selection_score(auc, pw, mse),
            "best_of_n": [best_of_n(groups, scores, passed, n) for n in ns]}
