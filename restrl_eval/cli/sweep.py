"""``restrl-eval sweep``: strategies x budgets on one benchmark, one tidy CSV.

Why the order of work below: every cheap check (strategy names and arguments, budgets,
which strategies need a scorer and whether its file exists, the benchmark) runs before a
model is loaded; then the policy and each distinct scorer are loaded once and one sandbox
pool serves every cell. Cells run largest budget first so smaller cells can reuse the
samples of larger ones (see ``restrl_eval.run.sweep``). Rerunning the same command resumes.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import click

from restrl_eval.cli.common import fail, load_policy_or_fail, load_scorer_or_fail

log = logging.getLogger(__name__)


def _split(text: str, what: str) -> list[str]:
    items = [x.strip() for x in text.split(",") if x.strip()]
    if not items:
        raise click.BadParameter(f"no {what} given", param_hint=f"--{what}")
    return items


def _budgets(text: str) -> list[int]:
    out = []
    for item in _split(text, "budgets"):
        try:
            b = int(item)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not an integer", param_hint="--budgets") from None
        if b < 1:
            raise click.BadParameter(f"every budget must be at least 1 (got {b})", param_hint="--budgets")
        out.append(b)
    return out


def _pairs(items: tuple[str, ...], option: str, sep: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        head, ok, tail = item.partition(sep)
        if not ok or not head.strip():
            raise click.BadParameter(f"{item!r}: expected STRATEGY{sep}...", param_hint=option)
        out.append((head.strip(), tail))
    return out


def _strategy_args(items: tuple[str, ...], strategies: list[str]) -> dict[str, dict[str, Any]]:
    args: dict[str, dict[str, Any]] = {s: {} for s in strategies}
    for name, rest in _pairs(items, "-S/--strategy-arg", ":"):
        key, ok, value = rest.partition("=")
        if not ok or not key.strip():
            raise click.BadParameter(f"{name}:{rest!r}: expected STRATEGY:KEY=VALUE", param_hint="-S/--strategy-arg")
        if name not in args:
            raise click.BadParameter(f"strategy {name!r} is not in --strategies", param_hint="-S/--strategy-arg")
        try:
            args[name][key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            args[name][key.strip()] = value
    return args


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", Path(text.rstrip("/")).name or text).strip("-")[:40] or "x"


def _describe(obj: Any) -> dict[str, Any]:
    describe = getattr(obj, "describe", None)
    return dict(describe()) if callable(describe) else {"name": type(obj).__name__}


@click.command("sweep")
@click.option("--strategies", required=True, help="Comma-separated strategies, e.g. orm,prm,orm-mcts,vm-mcts.")
@click.option("--budgets", required=True, help="Comma-separated budgets (complete candidates per task).")
@click.option("--bench", required=True, help="Benchmark (apps500 for the paper's curves).")
@click.option("--model", required=True, help="Policy: a checkpoint directory or a known alias.")
@click.option("--backend", type=click.Choice(["transformers", "vllm", "openai"]), default="transformers",
              show_default=True)
@click.option("--scorer", "scorer_path", default=None, help="Scorer checkpoint for every strategy that needs one.")
@click.option("--scorer-for", "scorer_for", multiple=True, metavar="STRATEGY=PATH",
              help="A strategy's own scorer (repeatable), e.g. vm-mcts=VM_DIR orm=ORM_DIR.")
@click.option("-S", "--strategy-arg", "strategy_args", multiple=True, metavar="STRATEGY:KEY=VALUE",
              help="A strategy argument (repeatable); VALUE is parsed as JSON when it can be.")
@click.option("--limit", type=int, default=None, help="Only the first N tasks.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Sweep directory (default: sweeps/<bench>__<model>__s<seed>__<hash>).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="CSV output (default: <out>/sweep.csv).")
@click.option("--temperature", type=float, default=None, help="Sampling temperature (default: each strategy's own).")
@click.option("--top-p", type=float, default=1.0, show_default=True)
@click.option("--max-tokens", type=int, default=512, show_default=True)
@click.option("--prompt-style", type=click.Choice(["chat", "completion"]), default="chat", show_default=True)
@click.option("--reuse/--no-reuse", default=True, show_default=True,
              help="Answer repeated policy requests from the sweep's sample cache.")
@click.option("--workers", type=int, default=2, show_default=True, help="Sandbox worker processes.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--apps-path", type=click.Path(), default=None)
@click.option("--batch-tasks", type=int, default=1, show_default=True,
              help="Tasks solved together per policy call in every cell (speed only; each task keeps its seed).")
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: on a terminal).")
def sweep(strategies: str, budgets: str, bench: str, model: str, backend: str, scorer_path: str | None,
          scorer_for: tuple[str, ...], strategy_args: tuple[str, ...], limit: int | None, seed: int,
          out_dir: str | None, csv_path: str | None, temperature: float | None, top_p: float, max_tokens: int,
          prompt_style: str, reuse: bool, workers: int, data_dir: str | None, apps_path: str | None,
          batch_tasks: int, progress: bool | None) -> None:
    """Run every (strategy, budget) cell as a resumable run; write one CSV row per cell.

    Rerunning the same command resumes: finished tasks of every cell are not redone.
    """
    from restrl_eval.benchmarks import BenchmarkError, get_benchmark
    from restrl_eval.registry import RegistryError
    from restrl_eval.strategies import SamplingParams, StrategyError, create_strategy
    from restrl_eval.strategies import mcts  # noqa: F401  (registers vm-mcts and orm-mcts)

    names = list(dict.fromkeys(_split(strategies, "strategies")))
    budget_list = _budgets(budgets)
    for name, value in (("--limit", limit), ("--workers", workers), ("--max-tokens", max_tokens),
                        ("--batch-tasks", batch_tasks)):
        if value is not None and value < 1:
            raise click.BadParameter(f"must be at least 1 (got {value})", param_hint=name)
    if temperature is not None and temperature < 0:
        raise click.BadParameter(f"must be >= 0 (got {temperature})", param_hint="--temperature")
    args = _strategy_args(strategy_args, names)
    built = {}
    for name in names:
        try:
            built[name] = create_strategy(name, args[name])
        except (RegistryError, StrategyError, TypeError, ValueError) as exc:
            raise fail(exc) from None
    scorer_paths: dict[str, str | None] = {n: scorer_path for n in names}
    for name, path in _pairs(scorer_for, "--scorer-for", "="):
        if name not in scorer_paths:
            raise click.BadParameter(f"strategy {name!r} is not in --strategies", param_hint="--scorer-for")
        scorer_paths[name] = path
    for name, strat in built.items():
        path = scorer_paths[name]
        if strat.needs_scorer and not path:
            raise click.ClickException(f"strategy {name!r} needs a scorer: pass --scorer PATH or --scorer-for {name}=PATH")
        if path and not Path(path).exists():
            raise click.ClickException(f"scorer {path}: no such file or directory")
    options = {k: v for k, v in (("data_dir", data_dir), ("apps_path", apps_path)) if v is not None}
    try:
        benchmark = get_benchmark(bench, **options)
        tasks = benchmark.tasks()
    except (RegistryError, BenchmarkError, OSError, ValueError) as exc:
        raise fail(exc) from None
    tasks = tasks[:limit] if limit is not None else tasks

    settings = {"bench": bench, "bench_options": options, "model": model, "backend": backend, "seed": seed,
                "temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "prompt_style": prompt_style}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    out = Path(out_dir) if out_dir else Path("sweeps") / f"{_slug(bench)}__{_slug(model)}__s{seed}__{digest}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps({**settings, "strategies": names, "budgets": budget_list,
                                                "scorers": scorer_paths, "strategy_args": args, "reuse": reuse},
                                               indent=2, sort_keys=True) + "\n")
    policy, scorers = _load_models(model, backend, scorer_paths)
    samplings = {n: SamplingParams(temperature=temperature if temperature is not None else float(s.default_temperature),
                                   top_p=top_p, max_tokens=max_tokens) for n, s in built.items()}
    outcomes = _run(built, budget_list, benchmark, tasks, policy, scorers, scorer_paths, samplings, seed,
                    prompt_style, out, Path(csv_path) if csv_path else out / "sweep.csv", reuse, workers,
                    limit, model, backend, options, progress, batch_tasks)
    click.echo(_table(outcomes, bench, Path(csv_path) if csv_path else out / "sweep.csv"))


def _load_models(model: str, backend: str, scorer_paths: dict[str, str | None]) -> tuple[Any, dict[str, Any]]:
    policy = load_policy_or_fail(model, backend)
    loaded = {path: load_scorer_or_fail(path, "scorer") for path in dict.fromkeys(p for p in scorer_paths.values() if p)}
    return policy, {n: (loaded[p] if p else None) for n, p in scorer_paths.items()}


def _run(built: dict[str, Any], budgets: list[int], benchmark: Any, tasks: list[Any], policy: Any,
         scorers: dict[str, Any], scorer_paths: dict[str, str | None], samplings: dict[str, Any], seed: int,
         prompt_style: str, out: Path, csv_path: Path, reuse: bool, workers: int, limit: int | None, model: str,
         backend: str, options: dict[str, Any], progress: bool | None, batch_tasks: int = 1) -> list[Any]:
    from restrl_eval.execution import Executor
    from restrl_eval.run.runner import sandbox_level
    from restrl_eval.run.store import RunStoreError, package_versions
    from restrl_eval.strategies import SolveContext, create_strategy
    from restrl_eval.run.sweep import SampleCache, cell_row, model_key, plan_cells, run_cell, write_csv

    model_desc = {"spec": model, "backend": backend, **_describe(policy)}
    model_id = model_key(policy)
    cache = SampleCache(out / "sample_cache.jsonl") if reuse else None
    outcomes = []
    with Executor(workers=workers, preload=tuple(getattr(benchmark, "preload", ()) or ())) as executor:
        base = {"seed": seed, "prompt_style": prompt_style, "model": model_desc,
                "benchmark": {"name": benchmark.name, "data_hash": benchmark.data_hash(), "options": options,
                              "columns": list(benchmark.columns)},
                "sandbox": {"level": sandbox_level(executor)}, "versions": package_versions(),
                "limit": limit, "workers": workers, "batch_tasks": batch_tasks}
        for cell in plan_cells(list(built), budgets):
            strat = create_strategy(cell.strategy, built[cell.strategy].spec.args)
            scorer = scorers[cell.strategy]
            ctx = SolveContext(policy=policy, benchmark=benchmark, budget=cell.budget, seed=seed,
                               sampling=samplings[cell.strategy], scorer=scorer, chat=prompt_style == "chat")
            config = {**base, "strategy": strat.spec.to_dict(), "budget": cell.budget,
                      "sampling": samplings[cell.strategy].to_dict(),
                      "scorer": ({"path": scorer_paths[cell.strategy], **_describe(scorer)}
                                 if scorer is not None else None)}
            try:
                outcome = run_cell(cell, strategy=strat, ctx=ctx, cache=cache, model_id=model_id,
                                   benchmark=benchmark, tasks=tasks, executor=executor,
                                   run_dir=out / "cells" / cell.name, config=config, progress=progress,
                                   batch_tasks=batch_tasks)
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
