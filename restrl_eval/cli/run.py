"""``restrl-eval run``: one strategy on one benchmark with one model, stored and resumable.

Why the order of work below: the options become a ``RunConfig`` whose construction makes
every cheap check (strategy name and arguments, budget, scorer presence, benchmark name
and options), then the benchmark's data is loaded, all before the model is loaded, so a
typo costs a second, not a model load; and the output directory defaults to a name
derived from the settings (``RunConfig.identity``), so repeating a command after a crash
resumes it.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from restrl_eval.cli.common import (
    build_benchmark_or_fail,
    describe,
    fail,
    load_policy_or_fail,
    load_scorer_or_fail,
    open_executor_or_fail,
    set_threads,
    usage,
)
from restrl_eval.cli.options import (
    benchmark_options,
    config_dict,
    config_option,
    execution_options,
    model_options,
    prefiller_or_fail,
    require,
    sampling_options,
    scorer_options,
    seed_option,
)
from restrl_eval.run.config import ConfigError, RunConfig, parse_pairs

log = logging.getLogger(__name__)


def _table(summary: dict[str, Any], out: Path) -> str:
    from tabulate import tabulate

    cols = list(summary.get("columns") or summary["pass_rate"])
    per = summary["cost_per_task"]
    row = [summary.get("benchmark"), summary.get("strategy"), summary.get("model"),
           f"{summary['tasks']}/{summary['total_tasks']}"]
    row += [f"{summary['pass_rate'][c]:.3f}" for c in cols]
    row += [f"{per['candidates']:.1f}", f"{per['scorer_calls']:.1f}", f"{per['completion_tokens']:.0f}",
            f"{per['prompt_tokens']:.0f}", f"{per['wall_s']:.2f}"]
    headers = ["benchmark", "strategy", "model", "tasks", *cols,
               "cand/task", "scored/task", "gen tok/task", "prompt tok/task", "s/task"]
    return tabulate([row], headers=headers, tablefmt="github") + f"\n\nrun directory: {out}"


def run_config(ctx: click.Context, params: Mapping[str, Any]) -> RunConfig:
    """The ``RunConfig`` of ``run``'s parsed options (over ``--config FILE``). Raises ConfigError."""
    data = config_dict(ctx, params)
    strategy = dict(data.get("strategy") or {})
    if params.get("strategy_name") is not None:
        strategy["name"] = params["strategy_name"]
    args = {**(strategy.get("args") or {}), **parse_pairs(params["strategy_args"], "-S/--strategy-arg")}
    if params.get("prm_agg") is not None:
        if strategy.get("name") != "prm":
            raise ConfigError(f"--prm-agg applies to strategy 'prm', not {strategy.get('name')!r}")
        args["agg"] = params["prm_agg"]
    data["strategy"] = {**strategy, "args": args}
    if params.get("out_dir") is not None:
        data["out"] = params["out_dir"]
    require(data, ("strategy", "name"), ("benchmark", "name"), ("model", "model"))
    return RunConfig.from_json(data, where=params.get("config_file") or "config")


@click.command("run")
@click.option("--strategy", "strategy_name", default=None, help="Decoding strategy (restrl-eval list strategies). Required (here or in --config).")
@benchmark_options
@model_options
@scorer_options
@click.option("--budget", type=int, default=None, help="Complete candidates per task (default: the strategy's own).")
@seed_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Run directory (default: runs/<bench>__<strategy>__<model>__s<seed>__<hash>).")
@sampling_options(prefill=True)
@click.option("--prm-agg", default=None, help="prm: step-score aggregation (min, last, mean, prod; default min).")
@click.option("-S", "--strategy-arg", "strategy_args", multiple=True, metavar="KEY=VALUE",
              help="A strategy argument (repeatable); VALUE is parsed as JSON when it can be.")
@execution_options()
@config_option
@click.pass_context
def run(ctx: click.Context, **params: Any) -> None:
    """Run STRATEGY on BENCH with MODEL; store every candidate and verdict; print a table.

    Rerunning the same command resumes the run and redoes no finished task.
    """
    from restrl_eval.run.store import RunStore, RunStoreError
    from restrl_eval.strategies import SolveContext

    # -- cheap checks first -------------------------------------------------------------
    try:
        cfg = run_config(ctx, params).resolved()
    except ConfigError as exc:
        raise usage(exc) from None
    benchmark, tasks = build_benchmark_or_fail(cfg.benchmark)
    prefill = prefiller_or_fail(benchmark, tasks, cfg.sampling.prefill)
    assert cfg.strategy is not None and cfg.budget is not None  # resolved() fills both
    config = cfg.record(benchmark)
    out = Path(cfg.out) if cfg.out else cfg.default_out(benchmark, cfg.strategy.name)
    try:  # refuse a directory holding another run before paying for the model load
        RunStore.check_compatible(out, config)
    except RunStoreError as exc:
        raise fail(exc) from None

    # -- expensive parts ----------------------------------------------------------------
    set_threads(cfg.model.threads)  # not part of the run's identity: it changes speed, not results
    policy = prefill(load_policy_or_fail(cfg.model.model, cfg.model.backend, **dict(cfg.model.options)))
    scorer = (load_scorer_or_fail(cfg.scorer.path, backend=cfg.scorer.backend, **dict(cfg.scorer.options))
              if cfg.scorer is not None else None)
    config["model"] = {"spec": cfg.model.model, "backend": cfg.model.backend, **describe(policy)}
    config["scorer"] = {"path": cfg.scorer.path, **describe(scorer)} if cfg.scorer is not None else None
    ctx_ = SolveContext(policy=policy, benchmark=benchmark, budget=cfg.budget, seed=cfg.seed,
                        sampling=cfg.sampling_params(), scorer=scorer, chat=cfg.sampling.prompt_style == "chat")
    _execute(cfg, cfg.strategy_object(), ctx_, benchmark, tasks, out, config)


def _execute(cfg: RunConfig, strat: Any, ctx: Any, benchmark: Any, tasks: list[Any], out: Path,
             config: dict[str, Any]) -> None:
    from restrl_eval.run.runner import run_tasks
    from restrl_eval.run.store import RunStore, RunStoreError, package_versions

    ex = cfg.execution
    with open_executor_or_fail(ex, benchmark.preload) as executor:
        config = {**config, "sandbox": executor.report.to_dict(), "versions": package_versions()}
        try:
            store = RunStore.open(out, config)
        except RunStoreError as exc:
            raise fail(exc) from None
        summary = run_tasks(benchmark, strat, ctx, store, executor, tasks, progress=ex.progress,
                            batch_tasks=ex.batch_tasks)
    click.echo(_table(summary, out))
