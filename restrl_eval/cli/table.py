"""``restrl-eval table RUNS...``: the paper's Table 1 / Table 2 layouts (or a custom
pivot) from run folders, evaluate folders, sweeps and leaderboard entries."""
from __future__ import annotations

import click


def _labels(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        path, sep, label = item.rpartition("=")
        if not sep or not path or not label:
            raise click.BadParameter(f"{item!r}: expected PATH=LABEL", param_hint="'--label'")
        out[path] = label
    return out


@click.command("table")
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--layout", type=click.Choice(["table1", "table2", "custom"]), default="table1", show_default=True,
              help="table1: rows = runs' labels, columns HumanEval..BCB + Avg; table2: rows = decoding methods, "
                   "columns = models, cells = Avg; custom: rows = --rows fields, one column per benchmark.")
@click.option("--format", "fmt", type=click.Choice(["md", "latex", "csv", "html"]), default="md", show_default=True)
@click.option("--reference", type=click.Choice(["paper"]), default=None,
              help="Add the paper's published rows (table1) or columns (table2), ReST-RL arXiv 2508.19576.")
@click.option("--ci", type=click.FloatRange(0.5, 0.999), default=None,
              help="Show a bootstrap interval over tasks at this level (e.g. 0.95).")
@click.option("--bootstrap", "n_boot", type=click.IntRange(min=100), default=2000, show_default=True,
              help="Bootstrap draws for --ci.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed (tables are reproducible).")
@click.option("--apps-metric", type=click.Choice(["pass", "reward"]), default="pass", show_default=True,
              help="APPS-500 cell: pass@1, or the mean fraction of tests passed.")
@click.option("--rows", default="label", show_default=True,
              help="custom layout: comma-separated tidy fields for rows (label, model, strategy, budget, seed, ...).")
@click.option("--label", "labels", multiple=True, metavar="PATH=LABEL",
              help="Name a run's row (table1/custom) or its method row (table2, e.g. RUN=ReST-RL). Repeatable.")
@click.option("--budget", type=click.IntRange(min=1), default=None,
              help="Keep only runs at this budget (and single-sample greedy/sample runs, the Base row): one "
                   "column of a sweep, e.g. Table 2's 100 samples.")
@click.option("--digits", type=click.IntRange(1, 6), default=3, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the table here instead of stdout.")
def table(runs: tuple[str, ...], layout: str, fmt: str, reference: str | None, ci: float | None, n_boot: int,
          seed: int, apps_metric: str, rows: str, labels: tuple[str, ...], budget: int | None, digits: int,
          out: str | None) -> None:
    """Tabulate RUNS (run/evaluate folders, sweep dirs or CSVs, results/*.json entries)."""
    from restrl_eval.report import tables, tidy
    from restrl_eval.report.rundir import ResultsError

    names = _labels(labels)
    try:
        df = tidy.load(runs, labels=names if layout != "table2" else None)
        if budget is not None:
            df = df[(df["budget"] == budget) | df["strategy"].isin(["greedy", "sample"])]
            if df.empty:
                raise ResultsError(f"no run at budget {budget}")
        built = tables.build(df, layout, apps_metric=apps_metric, ci=ci, n_boot=n_boot, seed=seed,
                             reference=reference, rows=[r.strip() for r in rows.split(",") if r.strip()],
                             row_labels={str(_source(p)): v for p, v in names.items()})
        text = tables.render(built, fmt, digits)
    except ResultsError as exc:
        raise click.ClickException(str(exc)) from None
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


def _source(path: str) -> str:
    """The ``source`` tidy rows carry for a path given on the command line."""
    from pathlib import Path

    return str(Path(path))
