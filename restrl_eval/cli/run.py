"""``restrl-eval run``: one strategy on one benchmark with one model, stored and resumable.

Why the order of work below: every cheap check (strategy name and arguments, budget,
scorer presence, benchmark name and data) runs before the model is loaded, so a typo
costs a second, not a model load; and the output directory defaults to a name derived
from the command's settings, so repeating a command after a crash resumes it.
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

BACKENDS = ("transformers", "vllm", "openai")


def _parse_strategy_args(pairs: tuple[str, ...]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.ClickException(f"-S/--strategy-arg {pair!r}: expected KEY=VALUE")
        try:
            args[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            args[key.strip()] = value
    return args


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", Path(text.rstrip("/")).name or text).strip("-")[:40] or "x"


def _default_out(bench: str, strategy: str, model: str, seed: int, settings: dict[str, Any]) -> Path:
    """``runs/<bench>__<strategy>__<model>__s<seed>__<hash>``: the hash covers every
    setting that changes results, so the same command lands in the same directory."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return Path("runs") / f"{_slug(bench)}__{_slug(strategy)}__{_slug(model)}__s{seed}__{digest}"


def _describe(obj: Any) -> dict[str, Any]:
    describe = getattr(obj, "describe", None)
    return dict(describe()) if callable(describe) else {"name": type(obj).__name__}


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


@click.command("run")
@click.option("--strategy", "strategy_name", required=True, help="Decoding strategy (greedy, sample, orm, prm, ...).")
@click.option("--bench", required=True, help="Benchmark (humaneval, humaneval+, mbpp, mbpp+, apps500, bigcodebench, ...).")
@click.option("--model", required=True, help="Policy: a checkpoint directory, a known alias (smollm2-135m), or a served model name.")
@click.option("--backend", type=click.Choice(BACKENDS), default="transformers", show_default=True)
@click.option("--scorer", "scorer_path", default=None, help="Scorer checkpoint (needed by orm/prm).")
@click.option("--budget", type=int, default=None, help="Complete candidates per task (default: the strategy's own).")
@click.option("--limit", type=int, default=None, help="Only the first N tasks.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Run directory (default: runs/<bench>__<strategy>__<model>__s<seed>__<hash>).")
@click.option("--temperature", type=float, default=None, help="Sampling temperature (default: the strategy's own).")
@click.option("--top-p", type=float, default=1.0, show_default=True)
@click.option("--max-tokens", type=int, default=512, show_default=True)
@click.option("--prompt-style", type=click.Choice(["chat", "completion"]), default="chat", show_default=True)
@click.option("--prm-agg", default=None, help="prm: step-score aggregation (min, last, mean, prod; default min).")
@click.option("-S", "--strategy-arg", "strategy_args", multiple=True, metavar="KEY=VALUE",
              help="A strategy argument (repeatable); VALUE is parsed as JSON when it can be.")
@click.option("--workers", type=int, default=2, show_default=True, help="Sandbox worker processes.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Benchmark data directory override.")
@click.option("--apps-path", type=click.Path(), default=None, help="APPS: a local copy of the dataset.")
@click.option("--apps-compat", type=click.Choice(["fixed", "reference"]), default=None,
              help="APPS: 'reference' reproduces the official harness' defects (default: fixed).")
@click.option("--apps-prompt", type=click.Choice(["restrl", "apps"]), default=None,
              help="APPS: prompt wording (restrl: ReST-RL's; apps: the APPS paper's).")
@click.option("--batch-tasks", type=int, default=1, show_default=True,
              help="Tasks solved together: one policy call carries every task's requests (faster on a GPU or "
                   "many cores; each task keeps its own seed).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--threads", type=int, default=None,
              help="CPU threads for torch (default: torch's own; 1 is fastest on a small shared machine).")
def run(strategy_name: str, bench: str, model: str, backend: str, scorer_path: str | None,
        budget: int | None, limit: int | None, seed: int, out_dir: str | None, temperature: float | None,
        top_p: float, max_tokens: int, prompt_style: str, prm_agg: str | None,
        strategy_args: tuple[str, ...], workers: int, data_dir: str | None, apps_path: str | None,
        apps_compat: str | None, apps_prompt: str | None, batch_tasks: int, progress: bool | None,
        threads: int | None) -> None:
    """Run STRATEGY on BENCH with MODEL; store every candidate and verdict; print a table.

    Rerunning the same command resumes the run and redoes no finished task.
    """
    from restrl_eval.run.store import RunStore, RunStoreError
    from restrl_eval.strategies import SamplingParams, SolveContext

    # -- cheap checks first -------------------------------------------------------------
    _check_numbers(budget=budget, limit=limit, max_tokens=max_tokens, workers=workers,
                   temperature=temperature, top_p=top_p, threads=threads, batch_tasks=batch_tasks)
    strat = _make_strategy(strategy_name, strategy_args, prm_agg, scorer_path, temperature)
    budget = budget if budget is not None else int(strat.default_budget)
    temperature = temperature if temperature is not None else float(strat.default_temperature)
    bench_options = {k: v for k, v in (("data_dir", data_dir), ("apps_path", apps_path), ("apps_compat", apps_compat),
                                       ("apps_prompt", apps_prompt)) if v is not None}
    benchmark, tasks = _make_benchmark(bench, bench_options, limit)

    sampling = SamplingParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens)
    config: dict[str, Any] = {
        "strategy": strat.spec.to_dict(),
        "budget": budget,
        "seed": seed,
        "sampling": sampling.to_dict(),
        "prompt_style": prompt_style,
        "benchmark": {"name": benchmark.name or bench, "data_hash": benchmark.data_hash(),
                      "options": bench_options, "columns": list(benchmark.columns)},
        "limit": limit,
        "workers": workers,
        "batch_tasks": batch_tasks,
    }
    out = Path(out_dir) if out_dir else _default_out(
        bench, strategy_name, model, seed,
        {**{k: v for k, v in config.items() if k not in ("limit", "workers", "batch_tasks")},
         "model": model, "backend": backend, "scorer": scorer_path})
    try:  # refuse a directory holding another run before paying for the model load
        RunStore.check_compatible(out, config)
    except RunStoreError as exc:
        raise fail(exc) from None

    # -- expensive parts ----------------------------------------------------------------
    if threads is not None:  # not part of the run's identity: it changes speed, not results
        import torch

        torch.set_num_threads(threads)
    policy, scorer = _load_models(model, backend, scorer_path)
    config["model"] = {"spec": model, "backend": backend, **_describe(policy)}
    config["scorer"] = {"path": scorer_path, **_describe(scorer)} if scorer is not None else None
    ctx = SolveContext(policy=policy, benchmark=benchmark, budget=budget, seed=seed, sampling=sampling,
                       scorer=scorer, chat=prompt_style == "chat")
    _execute(strat, ctx, benchmark, tasks, out, config, workers, progress, batch_tasks)


def _check_numbers(*, budget: int | None, limit: int | None, max_tokens: int, workers: int,
                   temperature: float | None, top_p: float, threads: int | None, batch_tasks: int = 1) -> None:
    for flag, value in (("--budget", budget), ("--limit", limit), ("--max-tokens", max_tokens),
                        ("--workers", workers), ("--threads", threads), ("--batch-tasks", batch_tasks)):
        if value is not None and value < 1:
            raise click.ClickException(f"{flag} must be at least 1 (got {value})")
    if temperature is not None and temperature < 0:
        raise click.ClickException(f"--temperature must be >= 0 (got {temperature})")
    if not 0 < top_p <= 1:
        raise click.ClickException(f"--top-p must be in (0, 1] (got {top_p})")


def _make_strategy(name: str, pairs: tuple[str, ...], prm_agg: str | None, scorer_path: str | None,
                   temperature: float | None) -> Any:
    from restrl_eval.registry import RegistryError
    from restrl_eval.strategies import StrategyError, create_strategy

    args = _parse_strategy_args(pairs)
    if prm_agg is not None:
        if name != "prm":
            raise click.ClickException(f"--prm-agg applies to strategy 'prm', not {name!r}")
        args["agg"] = prm_agg
    try:
        strat = create_strategy(name, args)
    except (RegistryError, StrategyError, TypeError, ValueError) as exc:
        raise fail(exc) from None
    if strat.needs_scorer and not scorer_path:
        raise click.ClickException(f"strategy {name!r} needs a scorer: pass --scorer PATH")
    if scorer_path and not Path(scorer_path).exists():
        raise click.ClickException(f"--scorer {scorer_path}: no such file or directory")
    if strat.default_temperature == 0.0 and temperature not in (None, 0.0):
        raise click.ClickException(f"strategy {name!r} decodes at temperature 0; drop --temperature")
    return strat


def _make_benchmark(name: str, options: dict[str, Any], limit: int | None) -> tuple[Any, list[Any]]:
    from restrl_eval.benchmarks import BenchmarkError, get_benchmark
    from restrl_eval.registry import RegistryError

    try:
        benchmark = get_benchmark(name, **options)
        tasks = benchmark.tasks()
    except (RegistryError, BenchmarkError, OSError, ValueError) as exc:
        raise fail(exc) from None
    return benchmark, (tasks[:limit] if limit is not None else tasks)


def _load_models(model: str, backend: str, scorer_path: str | None) -> tuple[Any, Any]:
    policy = load_policy_or_fail(model, backend)
    return policy, (load_scorer_or_fail(scorer_path) if scorer_path else None)


def _execute(strat: Any, ctx: Any, benchmark: Any, tasks: list[Any], out: Path, config: dict[str, Any],
             workers: int, progress: bool | None, batch_tasks: int = 1) -> None:
    from restrl_eval.execution import Executor
    from restrl_eval.run.runner import run_tasks
    from restrl_eval.run.store import RunStore, RunStoreError, package_versions

    with Executor(workers=workers, preload=tuple(getattr(benchmark, "preload", ()) or ())) as executor:
        config = {**config, "sandbox": executor.report.to_dict(), "versions": package_versions()}
        try:
            store = RunStore.open(out, config)
        except RunStoreError as exc:
            raise fail(exc) from None
        summary = run_tasks(benchmark, strat, ctx, store, executor, tasks, progress=progress,
                            batch_tasks=batch_tasks)
    click.echo(_table(summary, out))
