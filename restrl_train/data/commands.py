"""``restrl-train collect-outcomes``: K judged samples per problem (ORM / PRM data).

The problems come from ``restrl-eval run``'s benchmark options (``--bench``, ``-B``,
``--apps-path``, ``--limit``, ...) or from ``--tasks FILE``."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from restrl_eval.cli.common import build_benchmark_or_fail, fail, load_policy_or_fail, usage
from restrl_eval.cli.options import benchmark_options
from restrl_train.data.bench_options import tasks_option, warn_eval_data, with_tasks_file

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


def _benchmark_config(ctx: click.Context, params: dict[str, Any]) -> Any:
    """The ``BenchmarkConfig`` of ``--bench``/``-B``/``--tasks`` (a usage error when none or both)."""
    from restrl_eval.cli.options import config_dict
    from restrl_eval.run.config import BenchmarkConfig, ConfigError

    try:
        data = with_tasks_file(config_dict(ctx, params), params.get("tasks_file"))
        b = data.get("benchmark") or {}
        if not b.get("name"):
            raise ConfigError("missing option --bench (or --tasks FILE)")
        return BenchmarkConfig(b["name"], dict(b.get("options") or {}), b.get("limit"))
    except ConfigError as exc:
        raise usage(exc) from None


@click.command("collect-outcomes")
@benchmark_options
@tasks_option
@click.option("--model", required=True, help="Policy: checkpoint directory or known alias.")
@click.option("--n", "n", type=int, required=True, help="Programs sampled and judged per problem.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True, help="JSONL output.")
@click.option("--backend", type=click.Choice(["transformers", "vllm", "openai"]), default="transformers",
              show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--temperature", type=float, default=0.7, show_default=True,
              help="Sampling temperature (higher gives more diverse, more often failing programs).")
@click.option("--top-p", type=float, default=1.0, show_default=True)
@click.option("--max-tokens", type=int, default=512, show_default=True)
@click.option("--prompt-style", type=click.Choice(["chat", "completion"]), default="chat", show_default=True)
@click.option("--batch-tasks", type=int, default=4, show_default=True, help="Problems per policy call.")
@click.option("--workers", type=int, default=2, show_default=True, help="Sandbox worker processes.")
@click.pass_context
def collect_outcomes_cmd(ctx: click.Context, **params: Any) -> None:
    """Sample N programs per problem of BENCH (or --tasks FILE) and judge each in the
    sandbox (JSONL records).

    Rerunning the same command resumes: finished problems are not redone.
    """
    from tqdm.auto import tqdm

    from restrl_eval.strategies.base import SamplingParams
    from restrl_train.data.outcomes import collect_outcomes
    from restrl_train.data.values import RecordFileError, ValueRecordFile

    p = params
    for name in ("n", "limit", "batch_tasks", "workers", "max_tokens"):
        if p[name] is not None and p[name] < 1:
            raise click.BadParameter(f"must be at least 1 (got {p[name]})", param_hint="--" + name.replace("_", "-"))
    if p["temperature"] < 0 or not 0 < p["top_p"] <= 1:
        raise click.BadParameter(f"need temperature >= 0 and 0 < top-p <= 1 (got {p['temperature']}, {p['top_p']})")
    bench = _benchmark_config(ctx, p)
    benchmark, tasks = build_benchmark_or_fail(bench)
    evals = warn_eval_data(bench.name, [t.task_id for t in tasks], "outcome data")
    sampling = SamplingParams(temperature=p["temperature"], top_p=p["top_p"], max_tokens=p["max_tokens"])
    settings = {"bench": bench.name, "bench_options": dict(bench.options), "data_hash": benchmark.data_hash(),
                "model": p["model"], "backend": p["backend"], "n": p["n"], "seed": p["seed"],
                "sampling": sampling.to_dict(), "prompt_style": p["prompt_style"], "problem_field": "raw",
                "kind": "outcomes", "eval_benchmark": bool(evals), "eval_benchmarks": evals}
    out = Path(p["out_path"])
    try:
        store = ValueRecordFile(out, settings).open()
    except RecordFileError as exc:
        raise fail(exc) from None
    todo = [t for t in tasks if t.task_id not in store.finished]
    if todo:
        policy = load_policy_or_fail(p["model"], p["backend"])
        with tqdm(total=len(todo), desc=f"outcomes {bench.name}", unit="task") as bar:
            collect_outcomes(benchmark, policy, todo, store, n=p["n"], seed=p["seed"], sampling=sampling,
                             chat=p["prompt_style"] == "chat", workers=p["workers"], batch_tasks=p["batch_tasks"],
                             on_task=lambda: bar.update(1))
    click.echo(_report(store, [t.task_id for t in tasks], out))
