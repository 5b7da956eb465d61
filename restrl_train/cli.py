"""Entry point of ``restrl-train`` (click): training commands, loaded lazily by restrl-eval's
``LazyGroup`` (a command's module is imported only when it runs or shows its help)."""
from __future__ import annotations

import click

from restrl_eval.cli.main import LazyGroup

COMMANDS: dict[str, str] = {
    "collect-values": "restrl_train.data.values_cli:collect_values_cmd",
    "sft": "restrl_train.sft.cli:sft",
    "collect-outcomes": "restrl_train.data.commands:collect_outcomes_cmd",
    "vm": "restrl_train.scorer.commands:vm_cmd",
    "orm": "restrl_train.scorer.commands:orm_cmd",
    "prm": "restrl_train.scorer.commands:prm_cmd",
    "eval-scorer": "restrl_train.scorer.commands:eval_scorer_cmd",
    "grpo": "restrl_train.grpo.cli:grpo",
    "grpo-export": "restrl_train.grpo.cli:grpo_export",
    "pipeline": "restrl_train.pipeline.cli:pipeline",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
@click.version_option(package_name="restrl")
def cli() -> None:
    """restrl-train: ReST-GRPO and value-model training for code LLMs."""


def main() -> None:
    cli(prog_name="restrl-train")
