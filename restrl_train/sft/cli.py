"""``restrl-train sft``: options generated from ``SFTConfig``'s fields and help texts.

Why generated: the config dataclass is the one place a setting is declared, checked and
documented; the command cannot grow an option the library lacks, or miss one.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import click

from restrl_train.sft.config import SFTConfig

__all__ = ["sft"]

_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str}


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    for f in reversed(dataclasses.fields(SFTConfig)):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if f.type == "bool":
            func = click.option(f"{flag}/--no-{f.name.replace('_', '-')}", f.name, default=None,
                                help=help_text + f" [default: {'on' if f.default else 'off'}]")(func)
        else:
            extra = ("--out",) if f.name == "output_dir" else ()
            func = click.option(flag, *extra, f.name, type=_TYPES[str(f.type)], default=None,
                                help=help_text + ("" if f.default in ("", None) else f" [default: {f.default}]"))(func)
    return func


@click.command("sft")
@_options
def sft(**options: Any) -> None:
    """Supervised fine-tuning of a causal LM on {prompt, solution} records (loss on the
    solution and EOS only). Without --model, trains a small Qwen2-style model and its
    tokenizer from scratch. Rerunning the same command resumes from the last checkpoint;
    a finished run is reused."""
    from restrl_train.sft.records import SFTDataError
    from restrl_train.sft.trainer import SFTError, train_sft

    given = {k: v for k, v in options.items() if v is not None}
    if not given.get("output_dir"):
        raise click.UsageError("--output-dir/--out is required")
    try:
        cfg = SFTConfig(**given)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        result = train_sft(cfg)
    except (SFTError, SFTDataError) as exc:
        raise click.ClickException(str(exc)) from None
    state = "reused (already finished)" if result.reused else f"trained in {result.wall_s:.1f} s"
    click.echo(json.dumps(dataclasses.asdict(result), indent=1))
    click.echo(f"model: {result.output_dir} ({state}; {result.parameters:,} parameters, {result.steps} steps, "
               f"loss {result.first_loss} -> {result.last_loss})")
