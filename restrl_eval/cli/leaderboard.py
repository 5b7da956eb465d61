"""``restrl-eval leaderboard RESULTS_DIR``: render the committed results (one JSON entry
per result) as a table, add an entry from a finished run, or rewrite results/README.md."""
from __future__ import annotations

from pathlib import Path

import click

INTRO = """# Leaderboard

Committed results, one JSON entry per result (summary, per-task verdicts, config, data hash,
restrl version, machine, and how it was made). This file is generated:
`restrl-eval leaderboard results/ --format md --readme results/README.md`
(the table alone: `restrl-eval leaderboard results/`). Add an entry from a finished run or
evaluate folder with `restrl-eval leaderboard results/ --add RUN --name NAME --made-by "..."`.
`restrl-eval check --baseline results/NAME.json RUN` compares a new run with an entry.

pass@1 is the benchmark's strictest column (HumanEval+: base and plus tests); skipped tasks
(a library missing on the judging machine) are not scored; entries are comparable only when
their `data` hashes agree."""


@click.command("leaderboard")
@click.argument("results_dir", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["md", "csv", "html", "latex"]), default="md", show_default=True)
@click.option("--add", "add", type=click.Path(file_okay=False), default=None,
              help="A finished run or evaluate folder to add as an entry (before rendering).")
@click.option("--name", default=None, help="--add: the entry's name (its file: RESULTS_DIR/NAME.json).")
@click.option("--made-by", default=None, help="--add: how the result was made (command, model, data), honestly.")
@click.option("--note", default="", help="--add: anything a reader should know.")
@click.option("--model", "model_label", default=None, help="--add: the model's name to show (default: as recorded).")
@click.option("--strategy", "strategy_label", default=None,
              help="--add: the strategy that made an evaluate folder's samples (a run records its own).")
@click.option("--readme", type=click.Path(dir_okay=False), default=None,
              help="Write the full README (intro, table, how each entry was made) to this file.")
def leaderboard(results_dir: str, fmt: str, add: str | None, name: str | None, made_by: str | None, note: str,
                model_label: str | None, strategy_label: str | None, readme: str | None) -> None:
    """Render RESULTS_DIR's entries (and optionally add one or rewrite its README)."""
    from restrl_eval.report import leaderboard as lb
    from restrl_eval.report.rundir import ResultsError, read_folder

    if add is not None and (not name or not made_by):
        raise click.UsageError("--add needs --name and --made-by")
    try:
        if add is not None:
            path = lb.write_entry(lb.make_entry(read_folder(add), str(name), str(made_by), note, model=model_label,
                                                  strategy=strategy_label), results_dir)
            click.echo(f"wrote {path}", err=True)
        entries = lb.load_entries(results_dir)
        if readme is not None:
            Path(readme).write_text(lb.render_readme(entries, INTRO), encoding="utf-8")
            click.echo(f"wrote {readme}", err=True)
        click.echo(lb.render(entries, fmt))
    except ResultsError as exc:
        raise click.ClickException(str(exc)) from None
