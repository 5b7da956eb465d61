"""``restrl-train collect-values``: the click command over ``restrl_train.data.values``.

Its benchmark, model, sampling and execution options are ``restrl-eval run``'s own stacks
(``restrl_eval.cli.options``), so they cannot drift; the MCTS constants are its own.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from restrl_eval.cli.common import build_benchmark_or_fail, fail, load_policy_or_fail, set_threads, usage
from restrl_eval.cli.options import (
    benchmark_options,
    config_dict,
    config_option,
    execution_options,
    model_options,
    require,
    sampling_options,
    seed_option,
)
from restrl_eval.run.config import ConfigError, RunConfig
from restrl_train.data.bench_options import tasks_option, warn_eval_data, with_tasks_file
from restrl_train.data.values import RecordFileError, ValueRecordFile, ValuesConfig, collect_values, summarize

log = logging.getLogger(__name__)

__all__ = ["collect_values_cmd", "values_config"]


def values_config(ctx: click.Context, params: Mapping[str, Any]) -> ValuesConfig:
    """The ``ValuesConfig`` of the parsed options (over ``--config FILE``). Raises ConfigError."""
    from restrl_eval.strategies.mcts import MCTSConfig

    data = with_tasks_file(config_dict(ctx, params), params.get("tasks_file"))
    if data.get("strategy") is not None or data.get("scorer") is not None:
        raise ConfigError("--config: 'strategy' and 'scorer' do not apply to collect-values")
    if params.get("out_path") is not None:
        data["out"] = params["out_path"]
    require(data, ("benchmark", "name"), ("model", "model"), ("budget",))
    run = RunConfig.from_json(data, where=params.get("config_file") or "config")
    try:
        mcts = MCTSConfig(c=params["c"], eps=params["eps"], k=params["k"], keep=params["keep"],
                          leaves_per_call=params["leaves_per_call"], child_credit=params["child_credit"],
                          max_idle=params["max_idle"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return ValuesConfig(run, mcts)


@click.command("collect-values")
@benchmark_options
@tasks_option
@model_options
@click.option("--budget", type=int, default=None, help="Complete programs sampled per problem (required).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="JSONL output (default: values/<bench>__<model>__b<K>__s<seed>__<hash>.jsonl).")
@seed_option
@click.option("--c", "c", type=float, default=0.2, show_default=True, help="UCT exploration constant (official: 0.2).")
@click.option("--eps", type=float, default=0.1, show_default=True, help="UCT eps (official: 0.1).")
@click.option("--k", "k", type=int, default=5, show_default=True, help="Continuations per expansion.")
@click.option("--keep", type=int, default=5, show_default=True, help="Children kept visible per node.")
@click.option("--leaves-per-call", type=int, default=1, show_default=True,
              help="Leaves of one tree expanded per policy call.")
@click.option("--child-credit/--no-child-credit", default=True, show_default=True,
              help="Credit each sampled program's reward to the child its first line leads to (off: the official "
                   "ORM-MCTS, children unvisited until selected).")
@click.option("--max-idle", type=int, default=1, show_default=True,
              help="Selections per round that may end on a finished program (re-backing its reward, no sample) "
                   "before selection skips finished subtrees; 0: never.")
@sampling_options(temperature=0.7)
@execution_options(batch_tasks=4)
@config_option
@click.pass_context
def collect_values_cmd(ctx: click.Context, **params: Any) -> None:
    """Run MCTS with execution rewards over BENCH's problems; write value records (JSONL).

    Rerunning the same command resumes: finished problems are not redone.
    """
    try:
        cfg = values_config(ctx, params)
    except ConfigError as exc:
        raise usage(exc) from None
    benchmark, tasks = build_benchmark_or_fail(cfg.run.benchmark)
    evals = warn_eval_data(cfg.run.benchmark.name, [t.task_id for t in tasks], "value data")
    settings = cfg.settings(benchmark, evals)
    out = Path(cfg.run.out) if cfg.run.out else cfg.default_out(settings)
    try:
        store = ValueRecordFile(out, settings).open()
    except RecordFileError as exc:
        raise fail(exc) from None
    todo = [t for t in tasks if t.task_id not in store.finished]
    if len(todo) < len(tasks):
        log.info("%s: %d of %d problem(s) already done", out, len(tasks) - len(todo), len(tasks))
    if todo:
        from tqdm.auto import tqdm

        from restrl_eval.execution import SandboxUnavailable

        set_threads(cfg.run.model.threads)
        policy = load_policy_or_fail(cfg.run.model.model, cfg.run.model.backend, **dict(cfg.run.model.options))
        progress = cfg.run.execution.progress
        with tqdm(total=len(todo), desc=f"collect {benchmark.name}", unit="task",
                  disable=None if progress is None else not progress) as bar:
            try:
                collect_values(cfg, benchmark, policy, todo, store, on_task=lambda: bar.update(1))
            except SandboxUnavailable as exc:
                raise fail(f"--sandbox {cfg.run.execution.sandbox}: {exc}") from None
    s = summarize(store, [t.task_id for t in tasks])
    click.echo(f"{s['problems']} problem(s), {s['nodes']} node record(s), {s['programs']} program record(s); "
               f"solved {s['solved']}/{s['problems']}, mean best reward {s['mean_best_reward']:.3f}\nrecords: {out}")
