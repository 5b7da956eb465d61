"""Budget curves (the paper's Fig. 3b): score vs budget per strategy, with bootstrap bands
over tasks, and paired differences to a baseline strategy as a second panel.

Why the data is computed apart from the drawing: ``curve_data`` returns the exact series
the figure shows (also written beside the figure as CSV), so a test, or a reader, checks
the numbers and not pixels. Bands are seeded per point (``bootstrap.rng_for``) and the
files are written without timestamps, so the same sweep gives the same bytes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from restrl_eval.report import bootstrap
from restrl_eval.report.rundir import ResultsError

__all__ = ["X_AXES", "curve_data", "draw", "save"]

# --x choice -> (tidy column averaged per task, or None = the configured budget; axis label)
X_AXES = {"budget": (None, "budget (complete candidates per task)"),
          "candidates": ("candidates", "candidates per task (measured)"),
          "policy-tokens": ("policy_tokens", "policy tokens per task (prompt + completion)"),
          "wall": ("wall_s", "wall time per task (s)")}
_DATA_COLUMNS = ["panel", "series", "budget", "x", "y", "lo", "hi", "n_tasks"]


def _series_name(df: Any) -> Any:
    several = df["benchmark"].nunique() > 1
    return df["strategy"].astype(str) + ((" / " + df["benchmark"].astype(str)) if several else "")


def curve_data(df: Any, *, metric: str = "pass", x: str = "budget", baseline: str | None = None,
               ci: float = 0.95, n_boot: int = bootstrap.DEFAULT_BOOT, seed: int = 0) -> Any:
    """The plotted points: one row per (panel, series, budget) with x, y and the band.

    ``metric``: "pass" (pass@1 of the returned program) or "reward" (mean fraction of
    tests passed, APPS' metric). ``panel`` is "score", or "diff" for paired per-task
    differences (series minus ``baseline`` at the same budget, on the tasks both ran).
    """
    import pandas as pd

    if x not in X_AXES:
        raise ResultsError(f"unknown x axis {x!r} (known: {', '.join(X_AXES)})")
    value = {"pass": "passed", "reward": "reward"}.get(metric)
    if value is None:
        raise ResultsError(f"unknown metric {metric!r} (known: pass, reward)")
    df = df[df["budget"].notna() & df["strategy"].notna()].copy()
    if df.empty:
        raise ResultsError("no run with a strategy and a budget among the inputs (give sweeps or run folders)")
    df["series"] = _series_name(df)
    dupes = df.groupby(["series", "budget"])["source"].nunique()
    if (dupes > 1).any():
        series, budget = dupes[dupes > 1].index[0]
        raise ResultsError(f"two results for {series} at budget {int(budget)}; plot them separately")
    col = X_AXES[x][0]
    per_task = df.groupby(["series", "budget", "task_id"])[value].mean().astype(float)
    rows = []
    for (series, budget), scores in per_task.groupby(level=[0, 1]):
        cell = df[(df["series"] == series) & (df["budget"] == budget)]
        xv = float(budget) if col is None else float(cell.groupby("task_id")[col].mean().mean())
        d = bootstrap.draws(scores.to_numpy(), n_boot, bootstrap.rng_for(seed, "score", series, float(budget)))
        lo, hi = bootstrap.interval(d, ci)
        rows.append(["score", series, float(budget), xv, float(scores.mean()), lo, hi, int(scores.size)])
    if baseline is not None:
        rows += _diff_rows(per_task, rows, baseline, ci, n_boot, seed)
    return pd.DataFrame(rows, columns=_DATA_COLUMNS)


def _diff_rows(per_task: Any, score_rows: list[list[Any]], baseline: str, ci: float, n_boot: int,
               seed: int) -> list[list[Any]]:
    names = sorted({r[1] for r in score_rows})
    if baseline not in names:
        raise ResultsError(f"--baseline {baseline!r} is not among the plotted strategies ({', '.join(names)})")
    xs = {(r[1], r[2]): r[3] for r in score_rows}
    out = []
    for series in names:
        if series == baseline:
            continue
        for (s, budget), x in sorted(xs.items()):
            if s != series or (baseline, budget) not in xs:
                continue
            a, b = per_task.loc[(series, budget)], per_task.loc[(baseline, budget)]
            common = a.index.intersection(b.index)
            if common.empty:
                continue
            diff = (a[common] - b[common]).to_numpy()
            d = bootstrap.draws(diff, n_boot, bootstrap.rng_for(seed, "diff", series, float(budget)))
            lo, hi = bootstrap.interval(d, ci)
            out.append(["diff", series, float(budget), x, float(diff.mean()), lo, hi, int(diff.size)])
    return out


def draw(data: Any, *, metric: str = "pass", x: str = "budget", baseline: str | None = None,
         title: str | None = None) -> Any:
    """A matplotlib Figure of ``curve_data``'s rows (Agg backend; nothing is shown)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    diff = data[data["panel"] == "diff"]
    panels = 2 if baseline is not None and not diff.empty else 1
    fig = Figure(figsize=(6.4, 4.2 + 2.6 * (panels - 1)))
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    ylabel = "pass@1" if metric == "pass" else "mean fraction of tests passed"
    palette = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = {s: palette[k % len(palette)] for k, s in enumerate(sorted(data["series"].unique()))}
    for ax, panel in zip(axes, ("score", "diff")):
        part = data[data["panel"] == panel]
        for series, pts in part.groupby("series", sort=True):
            pts = pts.sort_values("x")
            ax.plot(pts["x"], pts["y"], marker="o", label=str(series), gid=f"{panel}:{series}", color=colors[series])
            ax.fill_between(pts["x"], pts["lo"], pts["hi"], alpha=0.2, color=colors[series], linewidth=0)
        ax.set_xscale("log")
        if x == "budget":  # label the budgets themselves, not powers of ten
            ax.set_xticks(sorted(data["x"].unique()))
            ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        if panel == "diff":
            ax.axhline(0.0, color="black", linewidth=0.8, gid="zero")
            ax.set_ylabel(f"{ylabel} minus {baseline}\n(paired over tasks)")
        else:
            ax.set_ylabel(ylabel)
    axes[-1].set_xlabel(X_AXES[x][1])
    axes[0].set_title(title or f"{ylabel} vs {X_AXES[x][1].split(' (')[0]}")
    fig.tight_layout()
    return fig


def save(fig: Any, data: Any, out: str | Path) -> tuple[Path, Path]:
    """Write the figure (png/svg/pdf, no timestamps) and its data as ``<out>.csv``."""
    import matplotlib

    out = Path(out)
    kind = out.suffix.lower().lstrip(".")
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}}
    if kind not in metadata:
        raise ResultsError(f"{out}: unknown figure type (use .png, .svg or .pdf)")
    with matplotlib.rc_context({"svg.hashsalt": "restrl", "path.simplify": True}):
        fig.savefig(out, format=kind, dpi=150, metadata=metadata[kind])
    sidecar = out.with_name(out.name + ".csv")
    data.round(9).to_csv(sidecar, index=False)
    return out, sidecar

