"""``restrl-eval sweep``: strategies x budgets on one benchmark, one tidy CSV.

Why the order of work below: the options become a ``SweepConfig`` whose construction makes
every cheap check (strategy names and arguments, budgets, which strategies need a scorer
and whether its file exists, the benchmark and its options; each cell is a valid
``RunConfig``) before a model is loaded; then the policy and each distinct scorer are
loaded once and one sandbox pool serves every cell. Cells run largest budget first so
smaller cells can reuse the samples of larger ones (see ``restrl_eval.run.sweep``); a
strategy that makes one candidate whatever the budget (greedy, sample) gets one cell, at
budget 1. Rerunning the same command resumes.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

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
from restrl_eval.run.config import ConfigError, RunConfig, ScorerConfig, StrategyConfig, SweepConfig

log = logging.getLogger(__name__)


def _split(value: Any, what: str) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    out = [str(x).strip() for x in items if str(x).strip()]
    if not out:
        raise ConfigError(f"--{what}: no {what} given")
    return out


def _budgets(value: Any) -> list[int]:
    out = []
    for item in _split(value, "budgets"):
        try:
            out.append(int(item))
        except ValueError:
            raise ConfigError(f"--budgets: {item!r} is not an integer") from None
    return out


def _pairs(items: tuple[str, ...], option: str, sep: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        head, ok, tail = item.partition(sep)
        if not ok or not head.strip():
            raise ConfigError(f"{option} {item!r}: expected STRATEGY{sep}...")
        out.append((head.strip(), tail))
    return out


def _strategy_args(items: tuple[str, ...], strategies: list[str]) -> dict[str, dict[str, Any]]:
    args: dict[str, dict[str, Any]] = {s: {} for s in strategies}
    for name, rest in _pairs(items, "-S/--strategy-arg", ":"):
        key, ok, value = rest.partition("=")
        if not ok or not key.strip():
            raise ConfigError(f"-S/--strategy-arg {name}:{rest!r}: expected STRATEGY:KEY=VALUE")
        if name not in args:
            raise ConfigError(f"-S/--strategy-arg: strategy {name!r} is not in --strategies")
        try:
            args[name][key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            args[name][key.strip()] = value
    return args


def sweep_config(ctx: click.Context, params: Mapping[str, Any]) -> tuple[SweepConfig, dict[str, dict[str, Any]]]:
    """The ``SweepConfig`` of ``sweep``'s parsed options (over ``--config FILE``, whose
    optional ``sweep`` table may give ``strategies`` and ``budgets``), and the strategy
    arguments as given. Raises ConfigError."""
    data = config_dict(ctx, params)
    table = data.pop("sweep", None) or {}
    for key in ("strategy", "budget"):
        if data.get(key) is not None:
            raise ConfigError(f"--config: {key!r} does not apply to sweep (use sweep.strategies / sweep.budgets)")
    names = list(dict.fromkeys(_split(params["strategies"] or table.get("strategies"), "strategies")))
    budgets = _budgets(params["budgets"] or table.get("budgets"))
    args = _strategy_args(params["strategy_args"], names)
    scorer_data = data.pop("scorer", None)
    try:
        scorer = ScorerConfig(**scorer_data) if scorer_data else None
    except TypeError as exc:
        raise ConfigError(f"scorer: {exc}") from None
    backend = scorer.backend if scorer else params["scorer_backend"]
    scorer_for = {n: ScorerConfig(p, backend=backend) for n, p in _pairs(params["scorer_for"], "--scorer-for", "=")}
    if params.get("out_dir") is not None:
        data["out"] = params["out_dir"]
    require(data, ("benchmark", "name"), ("model", "model"))
    base = RunConfig.from_json(data, where=params.get("config_file") or "config")
    csv = params.get("csv_path") or table.get("csv")
    reuse = params["reuse"] if ctx.get_parameter_source("reuse") is ParameterSource.COMMANDLINE \
        else table.get("reuse", True)
    cfg = SweepConfig.build(base, [StrategyConfig(n, args[n]) for n in names], budgets, scorer, scorer_for,
                            reuse=bool(reuse), csv=csv)
    return cfg, args


@click.command("sweep")
@click.option("--strategies", default=None, help="Comma-separated strategies, e.g. orm,prm,orm-mcts,vm-mcts.")
@click.option("--budgets", default=None, help="Comma-separated budgets (complete candidates per task).")
@benchmark_options
@model_options
@scorer_options
@click.option("--scorer-for", "scorer_for", multiple=True, metavar="STRATEGY=PATH",
              help="A strategy's own scorer (repeatable), e.g. vm-mcts=VM_DIR orm=ORM_DIR.")
@click.option("-S", "--strategy-arg", "strategy_args", multiple=True, metavar="STRATEGY:KEY=VALUE",
              help="A strategy argument (repeatable); VALUE is parsed as JSON when it can be.")
@seed_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Sweep directory (default: sweeps/<bench>__<model>__s<seed>__<hash>).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="CSV output (default: <out>/sweep.csv).")
@sampling_options(prefill=True)
@click.option("--reuse/--no-reuse", default=True, show_default=True,
              help="Answer repeated policy requests from the sweep's sample cache.")
@execution_options()
@config_option
@click.pass_context
def sweep(ctx: click.Context, **params: Any) -> None:
    """Run every (strategy, budget) cell as a resumable run; write one CSV row per cell.

    Rerunning the same command resumes: finished tasks of every cell are not redone.
    """
    try:
        cfg, args = sweep_config(ctx, params)
    except ConfigError as exc:
        raise usage(exc) from None
    benchmark, tasks = build_benchmark_or_fail(cfg.base.benchmark)
    prefill = prefiller_or_fail(benchmark, tasks, cfg.base.sampling.prefill)
    out = Path(cfg.base.out) if cfg.base.out else cfg.default_out()
    out.mkdir(parents=True, exist_ok=True)
    scorer_paths = {n: (s.path if s else None) for n, s in cfg.scorers.items()}
    (out / "sweep.json").write_text(json.dumps(
        {**cfg.identity_settings(), "strategies": [s.name for s in cfg.strategies], "budgets": list(cfg.budgets),
         "scorers": scorer_paths, "strategy_args": args, "reuse": cfg.reuse}, indent=2, sort_keys=True) + "\n")
    set_threads(cfg.base.model.threads)
    m = cfg.base.model
    policy = prefill(load_policy_or_fail(m.model, m.backend, **dict(m.options)))
    loaded = {s.path: load_scorer_or_fail(s.path, "scorer", backend=s.backend, **dict(s.options))
              for s in cfg.scorers.values() if s is not None}
    scorers = {n: (loaded[s.path] if s else None) for n, s in cfg.scorers.items()}
    csv_path = Path(cfg.csv) if cfg.csv else out / "sweep.csv"
    outcomes = _run(cfg, benchmark, tasks, policy, scorers, out, csv_path)
    click.echo(_table(outcomes, cfg.base.benchmark.name, csv_path))


def _run(cfg: SweepConfig, benchmark: Any, tasks: list[Any], policy: Any, scorers: dict[str, Any], out: Path,
         csv_path: Path) -> list[Any]:
    from restrl_eval.run.runner import sandbox_level
    from restrl_eval.run.store import RunStoreError, package_versions
    from restrl_eval.run.sweep import SampleCache, cell_row, model_key, plan_cells, run_cell, write_csv
    from restrl_eval.strategies import SolveContext

    b = cfg.base
    model_desc = {"spec": b.model.model, "backend": b.model.backend, **describe(policy)}
    model_id = model_key(policy)
    cache = SampleCache(out / "sample_cache.jsonl") if cfg.reuse else None
    names = [s.name for s in cfg.strategies]
    cells = [c for c in plan_cells(names, list(cfg.budgets) + [1]) if c.budget in cfg.cell_budgets(c.strategy)]
    outcomes = []
    with open_executor_or_fail(b.execution, benchmark.preload) as executor:
        extra = {"model": model_desc, "sandbox": {"level": sandbox_level(executor)}, "versions": package_versions()}
        for cell in cells:
            run_cfg = cfg.cell(cell.strategy, cell.budget).resolved()
            scorer = scorers[cell.strategy]
            ctx = SolveContext(policy=policy, benchmark=benchmark, budget=cell.budget, seed=b.seed,
                               sampling=run_cfg.sampling_params(), scorer=scorer,
                               chat=b.sampling.prompt_style == "chat")
            config = {**run_cfg.record(benchmark), **extra,
                      "scorer": ({"path": run_cfg.scorer.path, **describe(scorer)}
                                 if scorer is not None and run_cfg.scorer is not None else None)}
            try:
                outcome = run_cell(cell, strategy=run_cfg.strategy_object(), ctx=ctx, cache=cache,
                                   model_id=model_id, benchmark=benchmark, tasks=tasks, executor=executor,
                                   run_dir=out / "cells" / cell.name, config=config,
                                   progress=b.execution.progress, batch_tasks=b.execution.batch_tasks)
            except RunStoreError as exc:
                raise fail(exc) from None
            outcomes.append(outcome)
            write_csv(csv_path, [cell_row(o, benchmark.name) for o in outcomes])
    return outcomes


def _table(outcomes: list[Any], bench: str, csv_path: Path) -> str:
    from tabulate import tabulate

    from restrl_eval.run.sweep import cell_row

    rows = sorted((cell_row(o, bench) for o in outcomes), key=lambda r: (r["strategy"], r["budget"]))
    headers = ["strategy", "budget", "tasks", "pass@1", "candidates", "scorer_calls", "completion_tokens",
               "wall_s", "reused_rows", "generated_rows"]
    table = tabulate([[r[h] for h in headers] for r in rows], headers=headers, tablefmt="github")
    reused = [f"{r['strategy']}@{r['budget']}" for r in rows if r["reused_rows"]]
    note = f"cells that reused cached samples: {', '.join(reused) if reused else 'none'}"
    return f"{table}\n\n{note}\ncsv: {csv_path}"
