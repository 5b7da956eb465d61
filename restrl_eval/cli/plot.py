"""``restrl-eval plot SWEEP... --out fig.png``: budget curves with bootstrap bands, and
paired differences to a baseline strategy."""
from __future__ import annotations

import click


@click.command("plot")
@click.argument("sweeps", nargs=-1, required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Figure file: .png, .svg or .pdf (its data is written beside it as <out>.csv).")
@click.option("--metric", type=click.Choice(["pass", "reward"]), default="pass", show_default=True,
              help="pass: pass@1; reward: mean fraction of tests passed (APPS, the paper's Fig. 3b).")
@click.option("--x", "x_axis", type=click.Choice(["budget", "candidates", "policy-tokens", "wall"]),
              default="budget", show_default=True, help="x axis (log scale): budget, or a measured cost per task.")
@click.option("--baseline", default=None, help="Strategy whose per-task scores the others are paired against "
                                               "(second panel).")
@click.option("--ci", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True, help="Band level.")
@click.option("--bootstrap", "n_boot", type=click.IntRange(min=100), default=2000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed (same seed, same file).")
@click.option("--title", default=None)
def plot(sweeps: tuple[str, ...], out: str, metric: str, x_axis: str, baseline: str | None, ci: float,
         n_boot: int, seed: int, title: str | None) -> None:
    """Plot score vs budget per strategy from SWEEPS (sweep dirs or CSVs, or run folders)."""
    from restrl_eval.report import plots, tidy
    from restrl_eval.report.rundir import ResultsError

    try:
        df = tidy.load(sweeps)
        data = plots.curve_data(df, metric=metric, x=x_axis, baseline=baseline, ci=ci, n_boot=n_boot, seed=seed)
        fig = plots.draw(data, metric=metric, x=x_axis, baseline=baseline, title=title)
        fig_path, data_path = plots.save(fig, data, out)
    except ResultsError as exc:
        raise click.ClickException(str(exc)) from None
    points = data[data["panel"] == "score"]
    click.echo(f"wrote {fig_path} ({points['series'].nunique()} series, {len(points)} points) and {data_path}")
