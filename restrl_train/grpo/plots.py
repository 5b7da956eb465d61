"""Per-round figures: the reward-std histogram (the paper's Fig. 2) and training curves.

Why both as data and picture: the JSON/CSV are what a report or a regression check reads;
the PNG is for a person. The histogram shows the share of groups with ~0 reward std
(no GRPO gradient) before and after ReST's sigma0 filter.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["std_histogram", "write_std_histogram", "write_curves"]

ZERO_STD = 1e-9


def std_histogram(before: Sequence[float], after: Sequence[float], bins: int = 10) -> dict[str, Any]:
    """Counts of group stds in equal bins over [0, 0.5] (the largest std of rewards in [0, 1])."""
    edges = [0.5 * i / bins for i in range(bins + 1)]

    def counts(xs: Sequence[float]) -> list[int]:
        c = [0] * bins
        for x in xs:
            c[min(bins - 1, max(0, int(x / 0.5 * bins)))] += 1
        return c

    def share_zero(xs: Sequence[float]) -> float:
        return sum(1 for x in xs if x <= ZERO_STD) / len(xs) if xs else 0.0

    return {"edges": edges, "before": counts(before), "after": counts(after), "n_before": len(before),
            "n_after": len(after), "share_zero_std_before": share_zero(before),
            "share_zero_std_after": share_zero(after)}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_std_histogram(hist: Mapping[str, Any], out_stem: str | Path, title: str = "") -> None:
    stem = Path(out_stem)
    stem.with_suffix(".json").write_text(json.dumps(hist, indent=1))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    edges = hist["edges"]
    width = (edges[1] - edges[0]) * 0.4
    left = [e + width * 0.25 for e in edges[:-1]]
    ax.bar(left, hist["before"], width=width, align="edge", label=f"sampled ({hist['n_before']})")
    ax.bar([x + width for x in left], hist["after"], width=width, align="edge",
           label=f"after filter ({hist['n_after']})")
    ax.set_xlabel("population std of a group's rewards")
    ax.set_ylabel("groups")
    ax.set_title(title or f"zero-std share: {hist['share_zero_std_before']:.2f} -> {hist['share_zero_std_after']:.2f}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(stem.with_suffix(".png"), dpi=100)
    plt.close(fig)


def write_curves(rows: Sequence[Mapping[str, Any]], out_stem: str | Path,
                 keys: Sequence[str] = ("reward", "frac_reward_zero_std", "kl", "loss")) -> None:
    """CSV of every logged step (columns: step, ``keys``) and a 2x2 PNG of ``keys``."""
    stem = Path(out_stem)
    with stem.with_suffix(".csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", *keys])
        for r in rows:
            w.writerow([r.get("step", ""), *[r.get(k, "") for k in keys]])
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(8, 5))
    for ax, key in zip(axes.flat, keys):
        pts = [(r["step"], r[key]) for r in rows if key in r and r[key] is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".")
        ax.set_title(key)
        ax.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(stem.with_suffix(".png"), dpi=100)
    plt.close(fig)
