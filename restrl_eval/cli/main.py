"""Entry point of ``restrl-eval``.

Why lazy: each command lives in its own module (``restrl_eval/cli/<name>.py``,
exposing a click command named like the module) and may import heavy libraries
(torch, transformers). ``restrl-eval doctor`` must not pay for them, so a command's
module is imported only when that command is invoked or its help is shown.
"""
from __future__ import annotations

import importlib
import logging
from typing import Any

import click

# command name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "doctor": "restrl_eval.cli.doctor:doctor",
    "evaluate": "restrl_eval.cli.evaluate:evaluate",
    "list": "restrl_eval.cli.list:list_cmd",
    "run": "restrl_eval.cli.run:run",
    "serve": "restrl_eval.cli.serve:serve",
    "sweep": "restrl_eval.cli.sweep:sweep",
    "show": "restrl_eval.cli.show:show",
    "table": "restrl_eval.cli.table:table",
    "plot": "restrl_eval.cli.plot:plot",
    "leaderboard": "restrl_eval.cli.leaderboard:leaderboard",
    "check": "restrl_eval.cli.check:check",
    "export": "restrl_eval.cli.export:export",
}


class LazyGroup(click.Group):
    """A click group whose commands are ``name -> "module:attr"`` entries, imported on use.

    ``lazy_commands`` is the map (restrl-eval's ``COMMANDS`` by default); restrl-train
    passes its own. A command whose module is not in this checkout is left out."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = COMMANDS if lazy_commands is None else lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            mod_name, attr = self.lazy_commands[name].split(":")
            try:
                return getattr(importlib.import_module(mod_name), attr)
            except ModuleNotFoundError as exc:
                if exc.name == mod_name:  # command not built yet in this checkout
                    return None
                raise
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.version_option(package_name="restrl")
def cli(verbose: int) -> None:
    """restrl: evaluate decoding strategies for code LLMs, sandboxed and reproducible."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    cli(prog_name="restrl-eval")


if __name__ == "__main__":
    main()
