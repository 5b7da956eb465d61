"""``restrl-eval show RUN``: reprint a finished run's (or evaluate folder's) table from
its files, without loading a model."""
from __future__ import annotations

import click


@click.command("show")
@click.argument("folders", nargs=-1, required=True, type=click.Path())
def show(folders: tuple[str, ...]) -> None:
    """Print the summary table of each run or evaluate FOLDER (read from its files)."""
    from restrl_eval.report.rundir import ResultsError, read_folder
    from restrl_eval.report.show import folder_table

    for k, path in enumerate(folders):
        try:
            text = folder_table(read_folder(path))
        except ResultsError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(("\n" if k else "") + text)
