"""``restrl-eval check --baseline results/X.json RUN``: fail (exit 1) when RUN's pass@1
dropped below the baseline's by more than a margin, significantly (McNemar exact test;
see ``restrl_eval.report.compare``). Prints a Markdown verdict for a CI job summary."""
from __future__ import annotations

import os

import click


class _Incomparable(click.ClickException):
    exit_code = 2  # not a regression: the inputs cannot be compared (like a usage error)


@click.command("check")
@click.argument("run", type=click.Path())
@click.option("--baseline", required=True, type=click.Path(),
              help="A leaderboard entry (results/NAME.json) or a run/evaluate folder.")
@click.option("--margin", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Largest pass@1 drop tolerated (fraction of tasks).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True), default=0.05, show_default=True,
              help="Significance level of the one-sided McNemar exact test.")
@click.option("--strict", is_flag=True,
              help="Also fail when any task's verdict or status changed (deterministic runs, e.g. greedy in CI).")
@click.option("--summary-file", type=click.Path(dir_okay=False), default=None, envvar="GITHUB_STEP_SUMMARY",
              help="Append the Markdown verdict to this file (default: $GITHUB_STEP_SUMMARY when set).")
def check(run: str, baseline: str, margin: float, alpha: float, strict: bool, summary_file: str | None) -> None:
    """Compare RUN with --baseline task by task; exit 1 on a significant regression."""
    from restrl_eval.report import compare, tidy
    from restrl_eval.report.rundir import ResultsError

    try:
        result = compare.compare(tidy.load([baseline]), tidy.load([run]), margin=margin, alpha=alpha, strict=strict)
    except ResultsError as exc:
        raise _Incomparable(str(exc)) from None
    text = compare.markdown(result)
    click.echo(text, nl=False)
    if summary_file:
        with open(os.path.expanduser(summary_file), "a", encoding="utf-8") as f:
            f.write(text + "\n")
    if result.regressed:
        raise SystemExit(1)
