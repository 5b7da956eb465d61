"""``restrl-train collect-outcomes``: K judged samples per problem (ORM / PRM data)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from restrl_eval.cli.common import fail, load_policy_or_fail

log = logging.getLogger(__name__)

__all__ = ["collect_outcomes_cmd"]


def _report(store: Any, task_ids: list[str], out: Path) -> str:
    rows = [store.finished[t] for t in task_ids if t in store.finished]
    samples = sum(r["samples"] for r in rows)
    passed = sum(r["passed"] for r in rows)
    mixed = sum(0 < r["passed"] < r["samples"] for r in rows)
    return (f"{len(rows)} problem(s), {samples} judged program(s), {passed} passing "
            f"({passed / max(samples, 1):.1%}); {mixed} problem(s) with both passing and failing programs\n"
            f"records: {out}")


@click.command("collect-outcomes")
@click.option("--bench", required=True, help="Benchmark whose tasks are the training problems.")
@click.option("--model", required=True, help="Policy: checkpoint directory or known alias.")
@click.option("--n", "n", type=int, required=True, help="Programs sampled and judged per problem.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True, help="JSONL output.")
@click.option("--backend", type=click.Choice(["transformers", "vllm", "openai"]), default="transformers",
              show_default=True)
@click.option("--limit", type=int, default=None, help="Only the first N problems.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--temperature", type=float, default=0.7, show_default=True,
              help="Sampling temperature (higher gives more diverse, more often failing programs).")
@click.option("--top-p", type=float, default=1.0, show_default=True)
@click.option("--max-tokens", type=int, default=512, show_default=True)
@click.option("--prompt-style", type=click.Choice(["chat", "completion"]), default="chat", show_default=True)
@click.option("--batch-tasks", type=int, default=4, show_default=True, help="Problems per policy call.")
@click.option("--workers", type=int, default=2, show_default=True, help="Sandbox worker processes.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--apps-path", type=click.Path(), default=None)
def collect_outcomes_cmd(bench: str, model: str, n: int, out_path: str, backend: str, limit: int | None, seed: int,
                         temperature: float, top_p: float, max_tokens: int, prompt_style: str, batch_tasks: int,
                         workers: int, data_dir: str | None, apps_path: str | None) -> None:
    """Sample N programs per problem of BENCH and judge each in the sandbox (JSONL records).

    Rerunning the same command resumes: finished problems are not redone.
    """
    from tqdm.auto import tqdm

    from restrl_eval.benchmarks import BenchmarkError, get_benchmark
    from restrl_eval.registry import RegistryError
    from restrl_eval.strategies.base import SamplingParams
    from restrl_train.data.outcomes import collect_outcomes
    from restrl_train.data.records import eval_benchmark_names
    from restrl_train.data.values import RecordFileError, ValueRecordFile

    for name, value in (("--n", n), ("--limit", limit), ("--batch-tasks", batch_tasks), ("--workers", workers),
                        ("--max-tokens", max_tokens)):
        if value is not None and value < 1:
            raise click.BadParameter(f"must be at least 1 (got {value})", param_hint=name)
    if temperature < 0 or not 0 < top_p <= 1:
        raise click.BadParameter(f"need temperature >= 0 and 0 < top-p <= 1 (got {temperature}, {top_p})")
    options = {k: v for k, v in (("data_dir", data_dir), ("apps_path", apps_path)) if v is not None}
    try:
        benchmark = get_benchmark(bench, **options)
        tasks = benchmark.tasks()
    except (RegistryError, BenchmarkError, OSError, ValueError) as exc:
        raise fail(exc) from None
    tasks = tasks[:limit] if limit is not None else tasks
    evals = eval_benchmark_names(bench)
    if evals:
        click.secho(f"WARNING: {bench} is an evaluation benchmark: outcome data from it must not train a "
                    f"scorer that is then reported on {bench}", fg="yellow", err=True)
    sampling = SamplingParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens)
    settings = {"bench": bench, "bench_options": options, "data_hash": benchmark.data_hash(), "model": model,
                "backend": backend, "n": n, "seed": seed, "sampling": sampling.to_dict(),
                "prompt_style": prompt_style, "problem_field": "raw", "kind": "outcomes",
                "eval_benchmark": bool(evals)}
    out = Path(out_path)
    try:
        store = ValueRecordFile(out, settings).open()
    except RecordFileError as exc:
        raise fail(exc) from None
    todo = [t for t in tasks if t.task_id not in store.finished]
    if todo:
        policy = load_policy_or_fail(model, backend)
        with tqdm(total=len(todo), desc=f"outcomes {bench}", unit="task") as bar:
            collect_outcomes(benchmark, policy, todo, store, n=n, seed=seed, sampling=sampling,
                             chat=prompt_style == "chat", workers=workers, batch_tasks=batch_tasks,
                             on_task=lambda: bar.update(1))
    click.echo(_report(store, [t.task_id for t in tasks], out))
