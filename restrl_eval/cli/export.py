"""``restrl-eval export RUN --format evalplus|bigcodebench --out FILE``: the judged programs
of a results folder as samples the reference harness evaluates as they are."""
from __future__ import annotations

import click


@click.command("export")
@click.argument("folder", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["evalplus", "bigcodebench"]), required=True,
              help="Samples layout: evalplus.evaluate or bigcodebench.evaluate (task_id + solution rows).")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="JSONL file to write.")
@click.option("--candidates", type=click.Choice(["chosen", "all"]), default="chosen", show_default=True,
              help="A run's chosen program per task, or every candidate it sampled.")
@click.option("--missing", type=click.Choice(["empty", "skip"]), default="empty", show_default=True,
              help="Benchmark tasks absent from the folder: an empty (failing) solution, as the tools "
                   "require every task, or left out (for a reference run on the same subset).")
def export(folder: str, fmt: str, out: str, candidates: str, missing: str) -> None:
    """Write FOLDER's judged programs (a run or an evaluate folder) as a samples file."""
    from restrl_eval.cli.common import usage
    from restrl_eval.report.export import export_samples
    from restrl_eval.report.rundir import ResultsError

    try:
        res = export_samples(folder, fmt, out, candidates=candidates, missing=missing)
    except ResultsError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:  # a format that does not fit the folder's benchmark
        raise usage(exc) from None
    pad = f", {res.padded} task(s) absent from the run padded with an empty solution" if res.padded else ""
    click.echo(f"wrote {res.written} sample(s) of {res.tasks} {res.benchmark} task(s) to {res.path}{pad}")
    click.echo(f"evaluate with: {res.command}")
