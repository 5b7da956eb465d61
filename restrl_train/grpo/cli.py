"""``restrl-train grpo``: ReST-GRPO, GRPO and DAPO rounds on TRL's GRPOTrainer.

The options are generated from ``GrpoRunConfig`` (one help text per field), so the command
line, the config record and ``config.json`` cannot drift apart.
"""
from __future__ import annotations

import dataclasses
import sys
import typing
from typing import Any

import click

from restrl_train.grpo.config import METHODS, PRESETS, GrpoRunConfig, apply_preset

_MANUAL = {"method", "model", "out", "tasks", "bench", "preset", "use_cpu"}
_HINTS = typing.get_type_hints(GrpoRunConfig)


def _click_type(name: str) -> Any:
    hint = _HINTS[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    base = args[0]
    return {int: int, float: float, str: str, bool: bool}.get(base, str)


def _config_options(fn: Any) -> Any:
    for f in reversed(dataclasses.fields(GrpoRunConfig)):
        if f.name in _MANUAL:
            continue
        opt = "--" + f.name.replace("_", "-")
        if _click_type(f.name) is bool:
            fn = click.option(f"{opt}/--no-{opt[2:]}", f.name, default=f.default, help=f.metadata["help"])(fn)
        else:
            fn = click.option(opt, f.name, type=_click_type(f.name), default=f.default, show_default=True,
                              help=f.metadata["help"])(fn)
    return fn


@click.command("grpo")
@click.option("--method", type=click.Choice(METHODS), default="rest-grpo", show_default=True,
              help="rest-grpo: sigma0 filter + prefixes; grpo: every problem; dapo: zero-std groups dropped "
                   "offline, loss dapo, clip-higher 0.28, truncated completions masked")
@click.option("--model", required=True, help="policy checkpoint DIRECTORY (TRL rebuilds the reference from it)")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="output directory")
@click.option("--tasks", type=click.Path(dir_okay=False), default=None,
              help="tasks JSONL {task_id, prompt, tests, entry_point}")
@click.option("--bench", default=None, help="a registered benchmark as the training set")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default=None,
              help="official: beta 0.04, bnpo, lr 1e-7, G=8, T=0.7, 1024 tokens")
@click.option("--use-cpu/--no-use-cpu", "use_cpu", default=None, help="default: CPU when no GPU is visible")
@_config_options
@click.pass_context
def grpo(ctx: click.Context, **opts: Any) -> None:
    """Sample -> build -> train rounds (resumable at every stage)."""
    from click.core import ParameterSource

    from restrl_eval.benchmarks import BenchmarkError
    from restrl_train.data.records import eval_benchmark_names, eval_data_warning
    from restrl_train.grpo.rounds import StageConflict, run_rounds
    from restrl_train.grpo.sampler import load_problems

    if bool(opts["tasks"]) == bool(opts["bench"]):
        raise click.UsageError("give exactly one of --tasks FILE or --bench NAME")
    if opts["use_cpu"] is None:
        import torch

        opts["use_cpu"] = not torch.cuda.is_available()
    explicit = {k for k in opts if ctx.get_parameter_source(k) == ParameterSource.COMMANDLINE}
    try:
        cfg = apply_preset(GrpoRunConfig(**opts), explicit)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if cfg.prompt_style not in ("chat", "completion"):
        raise click.UsageError(f"--prompt-style must be chat or completion, not {cfg.prompt_style!r}")
    if cfg.iterations < 1 or cfg.n_samples < 1 or cfg.num_generations < 2:
        raise click.UsageError("--iterations and --n-samples must be >= 1, --num-generations >= 2")
    try:
        problems = load_problems(cfg.tasks, cfg.bench, cfg.limit, style=cfg.prompt_style)
        warning = eval_data_warning(eval_benchmark_names(cfg.bench, [p.task_id for p in problems]),
                                    "GRPO training problems")
        if warning:
            click.secho(f"WARNING: {warning}", err=True, fg="yellow")
        last = run_rounds(cfg, problems, say=lambda m: click.echo(m, err=True))
    except (BenchmarkError, StageConflict) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(last)


@click.command("grpo-export")
@click.option("--dataset", "dataset", required=True, type=click.Path(exists=True, dir_okay=False),
              help="a round's dataset.jsonl (ReST-GRPO records)")
@click.option("--to", "fmt", required=True, type=click.Choice(["verl", "openrlhf"]),
              help="verl: RL parquet; openrlhf: prompt JSONL (input/label)")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="output file")
def grpo_export(dataset: str, fmt: str, out: str) -> None:
    """Export ReST-GRPO training records to verl's parquet or OpenRLHF's JSONL layout."""
    import json as _json

    from restrl_train.grpo.adapters import to_openrlhf_jsonl, to_verl_parquet

    rows = []
    for n, line in enumerate(open(dataset, encoding="utf-8"), 1):
        if not line.strip():
            continue
        try:
            row = _json.loads(line)
        except _json.JSONDecodeError as exc:
            click.echo(f"error: {dataset}:{n}: not JSON ({exc.msg})", err=True)
            sys.exit(1)
        missing = [k for k in ("prompt", "partial_state", "tests", "task_id", "bench", "prefix_lines") if k not in row]
        if missing:
            click.echo(f"error: {dataset}:{n}: missing field {missing[0]!r}", err=True)
            sys.exit(1)
        rows.append(row)
    path = (to_verl_parquet if fmt == "verl" else to_openrlhf_jsonl)(rows, out)
    click.echo(f"{len(rows)} records -> {path}")
