"""``restrl-train collect-values``: value-model training data from MCTS with execution rewards.

Why this shape: the official value model is trained on ``(problem, partial program, value)``
pairs whose values come from MCTS simulations with execution rewards (no human labels):
every sampled program with its reward, plus every expanded node with its mean value. The
search is the same core as VM-MCTS (``restrl_eval.strategies.mcts``) with the ``exec``
evaluator and the official collection constant c = 0.2. Several problems' trees grow in
lockstep so each policy call carries more rows.

Output: one JSONL file. Each finished task contributes, in one flushed and fsynced write,
its ``node`` and ``program`` records followed by one ``task`` record, which is the commit
mark: on resume, records of a task without its ``task`` record (the task a crash
interrupted) and a torn last line are dropped, and finished tasks are skipped. The
settings are kept beside the file (``<out>.meta.json``) and a resume with different
settings is refused.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import click

from restrl_eval.cli.common import load_policy_or_fail

log = logging.getLogger(__name__)

__all__ = ["ValueRecordFile", "collect_values", "tree_records"]

FORMAT = 1


def tree_records(task_id: str, problem: str, result: Any) -> list[dict[str, Any]]:
    """The value targets of one grown tree: expanded nodes (mean value, visits) in
    pre-order, then every sampled program (its execution reward, one visit)."""
    rows: list[dict[str, Any]] = []
    for node in result.root.walk():
        if node.expanded:
            rows.append({"task_id": task_id, "kind": "node", "problem": problem, "state": node.state,
                         "value": node.value, "visits": node.visits, "depth": node.depth})
    for s in result.samples:
        rows.append({"task_id": task_id, "kind": "program", "problem": problem, "state": s.code,
                     "value": 0.0 if s.value is None else s.value, "visits": 1, "depth": s.depth,
                     "finish_reason": s.finish_reason})
    return rows


def _dumps(row: Mapping[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n"


class ValueRecordFile:
    """The resumable JSONL file of value records (see the module docstring)."""

    def __init__(self, path: Path, settings: Mapping[str, Any]) -> None:
        self.path = path
        self.meta = path.with_name(path.name + ".meta.json")
        self.settings = json.loads(json.dumps({"format": FORMAT, **settings}, sort_keys=True))
        self.finished: dict[str, dict[str, Any]] = {}

    def open(self) -> "ValueRecordFile":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.meta.exists():
            old = json.loads(self.meta.read_text(encoding="utf-8"))
            for key in sorted(set(old) | set(self.settings)):
                if key != "limit" and old.get(key) != self.settings.get(key):
                    raise click.ClickException(
                        f"{self.path}: holds records made with {key}={json.dumps(old.get(key))}, "
                        f"now {json.dumps(self.settings.get(key))}; pass another --out or remove it")
        else:
            self.meta.write_text(json.dumps(self.settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self._repair()
        return self

    def _repair(self) -> None:
        if not self.path.exists():
            return
        rows: list[dict[str, Any]] = []
        torn = False
        with open(self.path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.endswith("\n"):
                    torn = True
                    break
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise click.ClickException(f"{self.path}:{lineno}: not valid JSON") from None
        self.finished = {r["task_id"]: r for r in rows if r.get("kind") == "task"}
        kept = [r for r in rows if r.get("task_id") in self.finished]
        if torn or len(kept) != len(rows):
            log.warning("%s: dropped %d record(s) of unfinished tasks", self.path, len(rows) - len(kept))
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            tmp.write_text("".join(_dumps(r) for r in kept), encoding="utf-8")
            os.replace(tmp, self.path)

    def append(self, rows: Iterable[Mapping[str, Any]], task_row: Mapping[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("".join(_dumps(r) for r in rows) + _dumps(task_row))
            f.flush()
            os.fsync(f.fileno())
        self.finished[task_row["task_id"]] = dict(task_row)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", Path(text.rstrip("/")).name or text).strip("-")[:40] or "x"


def _default_out(settings: Mapping[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return Path("values") / (f"{_slug(settings['bench'])}__{_slug(settings['model'])}__b{settings['budget']}"
                             f"__s{settings['seed']}__{digest}.jsonl")


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@click.command("collect-values")
@click.option("--bench", required=True, help="Benchmark whose tasks are the training problems.")
@click.option("--model", required=True, help="Policy: checkpoint directory or known alias.")
@click.option("--backend", type=click.Choice(["transformers", "vllm", "openai"]), default="transformers",
              show_default=True)
@click.option("--budget", type=int, required=True, help="Complete programs sampled per problem.")
@click.option("--limit", type=int, default=None, help="Only the first N problems.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="JSONL output (default: values/<bench>__<model>__b<K>__s<seed>__<hash>.jsonl).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--c", "c", type=float, default=0.2, show_default=True, help="UCT exploration constant (official: 0.2).")
@click.option("--eps", type=float, default=0.1, show_default=True, help="UCT eps (official: 0.1).")
@click.option("--k", "k", type=int, default=5, show_default=True, help="Continuations per expansion.")
@click.option("--keep", type=int, default=5, show_default=True, help="Children kept visible per node.")
@click.option("--leaves-per-call", type=int, default=1, show_default=True,
              help="Leaves of one tree expanded per policy call.")
@click.option("--batch-tasks", type=int, default=4, show_default=True, help="Trees grown together.")
@click.option("--temperature", type=float, default=0.7, show_default=True)
@click.option("--top-p", type=float, default=1.0, show_default=True)
@click.option("--max-tokens", type=int, default=512, show_default=True)
@click.option("--prompt-style", type=click.Choice(["chat", "completion"]), default="chat", show_default=True)
@click.option("--workers", type=int, default=2, show_default=True, help="Sandbox worker processes.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--apps-path", type=click.Path(), default=None)
def collect_values(bench: str, model: str, backend: str, budget: int, limit: int | None, out_path: str | None,
                   seed: int, c: float, eps: float, k: int, keep: int, leaves_per_call: int, batch_tasks: int,
                   temperature: float, top_p: float, max_tokens: int, prompt_style: str, workers: int,
                   data_dir: str | None, apps_path: str | None) -> None:
    """Run MCTS with execution rewards over BENCH's problems; write value records (JSONL).

    Rerunning the same command resumes: finished problems are not redone.
    """
    from restrl_eval.benchmarks import BenchmarkError, get_benchmark
    from restrl_eval.registry import RegistryError
    from restrl_eval.strategies.mcts import MCTSConfig

    for name, value in (("--budget", budget), ("--limit", limit), ("--batch-tasks", batch_tasks),
                        ("--workers", workers), ("--max-tokens", max_tokens)):
        if value is not None and value < 1:
            raise click.BadParameter(f"must be at least 1 (got {value})", param_hint=name)
    try:
        cfg = MCTSConfig(c=c, eps=eps, k=k, keep=keep, leaves_per_call=leaves_per_call)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    options = {k_: v for k_, v in (("data_dir", data_dir), ("apps_path", apps_path)) if v is not None}
    try:
        benchmark = get_benchmark(bench, **options)
        tasks = benchmark.tasks()
    except (RegistryError, BenchmarkError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    tasks = tasks[:limit] if limit is not None else tasks
    settings = {"bench": bench, "bench_options": options, "data_hash": benchmark.data_hash(), "model": model,
                "backend": backend, "budget": budget, "seed": seed,
                "mcts": {"c": c, "eps": eps, "k": k, "keep": keep, "leaves_per_call": leaves_per_call},
                "sampling": {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens},
                "prompt_style": prompt_style, "evaluator": "exec"}
    out = Path(out_path) if out_path else _default_out(settings)
    store = ValueRecordFile(out, settings).open()
    todo = [t for t in tasks if t.task_id not in store.finished]
    if len(todo) < len(tasks):
        log.info("%s: %d of %d problem(s) already done", out, len(tasks) - len(todo), len(tasks))
    if todo:
        policy = load_policy_or_fail(model, backend)
        _collect(benchmark, policy, todo, store, cfg, budget, seed, temperature, top_p, max_tokens,
                 prompt_style == "chat", workers, batch_tasks)
    click.echo(_report(store, tasks, out))


def _collect(benchmark: Any, policy: Any, tasks: Sequence[Any], store: ValueRecordFile, cfg: Any, budget: int,
             seed: int, temperature: float, top_p: float, max_tokens: int, chat: bool, workers: int,
             batch_tasks: int) -> None:
    from tqdm.auto import tqdm

    from restrl_eval.execution import Executor
    from restrl_eval.strategies.base import task_seed
    from restrl_eval.strategies.mcts import ExecutionEvaluator, SearchProblem, search_many

    style = "chat" if chat else "completion"
    with Executor(workers=workers, preload=tuple(getattr(benchmark, "preload", ()) or ())) as ex, \
            tqdm(total=len(tasks), desc=f"collect {benchmark.name}", unit="task") as bar:
        evaluator = ExecutionEvaluator(benchmark, ex)
        for chunk in _chunks(tasks, batch_tasks):
            problems = [SearchProblem(t, benchmark.prompt(t, style), task_seed(seed, t.task_id), budget)
                        for t in chunk]
            t0 = time.perf_counter()
            results = search_many(problems, policy, evaluator, benchmark.extract_code, cfg=cfg,
                                  temperature=temperature, top_p=top_p, max_tokens=max_tokens, chat=chat)
            log.debug("%d tree(s) in %.1fs", len(chunk), time.perf_counter() - t0)
            for task, problem, res in zip(chunk, problems, results):
                rows = tree_records(task.task_id, problem.prompt, res)
                rewards = [s.value or 0.0 for s in res.samples]
                st = res.stats
                store.append(rows, {
                    "task_id": task.task_id, "kind": "task", "samples": st.samples, "executions": st.executions,
                    "nodes": sum(r["kind"] == "node" for r in rows), "best_reward": max(rewards),
                    "mean_reward": sum(rewards) / len(rewards), "completion_tokens": st.completion_tokens,
                    "prompt_tokens": st.prompt_tokens, "wall_s": round(st.wall_s, 3)})
                bar.update(1)


def _report(store: ValueRecordFile, tasks: Sequence[Any], out: Path) -> str:
    rows = [store.finished[t.task_id] for t in tasks if t.task_id in store.finished]
    n = len(rows)
    nodes = sum(r["nodes"] for r in rows)
    programs = sum(r["samples"] for r in rows)
    solved = sum(r["best_reward"] >= 1.0 for r in rows)
    mean_best = sum(r["best_reward"] for r in rows) / n if n else 0.0
    return (f"{n} problem(s), {nodes} node record(s), {programs} program record(s); "
            f"solved {solved}/{n}, mean best reward {mean_best:.3f}\nrecords: {out}")
