"""Entry point of ``restrl-train`` (click): training commands, loaded lazily like restrl-eval's."""
from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "collect-values": "restrl_train.collect:collect_values",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        mod_name, attr = COMMANDS[name].split(":")
        try:
            return getattr(importlib.import_module(mod_name), attr)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                return None
            raise


@click.group(cls=_LazyGroup)
def cli() -> None:
    """restrl-train: ReST-GRPO and value-model training for code LLMs."""


def main() -> None:
    cli(prog_name="restrl-train")
