"""Value-model training data from MCTS with execution rewards (library side of
``restrl-train collect-values``).

Why this shape: the official value model is trained on ``(problem, partial program, value)``
pairs whose values come from MCTS simulations with execution rewards (no human labels):
every sampled program with its reward, plus every expanded node with its mean value. The
search is the same core as VM-MCTS (``restrl_eval.strategies.mcts``) with the ``exec``
evaluator and the official collection constant c = 0.2. Several problems' trees grow in
lockstep so each policy call carries more rows.

Two search options shape the values (both recorded in the meta file):

- ``child_credit`` (default on): each sampled program's execution reward is credited to
  the child its first line leads to (one visit, that reward), so a node's value is the mean
  reward of every program sampled through it, and UCT ranks children by that mean. Off
  reproduces the official ORM-MCTS collection: a child stays unvisited (value 0) until it
  is selected itself, and pruning keeps the first-sampled children.
- ``max_idle`` (default 1): selections per round that may end on a finished program; each
  backs up that program's reward once more and costs no sample (official). After that
  many, selection skips subtrees with nothing left to expand, so a high-valued finished
  program cannot absorb the whole budget (which is counted in samples). 0: never re-select
  a finished program.

Output: one JSONL file. Each finished task contributes, in one flushed and fsynced write,
its ``node`` and ``program`` records followed by one ``task`` record, which is the commit
mark: on resume, records of a task without its ``task`` record (the task a crash
interrupted) and a torn last line are dropped, and finished tasks are skipped. The
settings are kept beside the file (``<out>.meta.json``) and a resume with different
settings is refused. Records hold the task's raw problem text as ``problem`` (what
``collect-outcomes`` records hold, and what a scorer with ``problem_field: raw`` reads)
and the policy prompt as ``prompt``; the meta file says so (``problem_field``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restrl_eval.jsonl import read_log
from restrl_eval.run.config import RunConfig, slug

log = logging.getLogger(__name__)

__all__ = ["FORMAT", "RecordFileError", "ValueRecordFile", "ValuesConfig", "collect_values", "summarize",
           "tree_records"]

FORMAT = 1
# settings a file made before the option existed was made with (so old files still resume)
LEGACY_DEFAULTS: dict[str, dict[str, Any]] = {"mcts": {"child_credit": True, "max_idle": 1}}
# settings that may differ on resume (they change which tasks run, not their records; a
# file keeps the problem text it was started with, see ``ValueRecordFile.open``)
NON_IDENTITY = frozenset({"limit", "eval_benchmark", "eval_benchmarks", "problem_field"})
PROBLEM_FIELD = "raw"
"""What new files' ``problem`` holds: the task's raw problem text (``prompt`` holds the
policy prompt), as in ``collect-outcomes`` records; files begun before this field existed
hold the policy prompt in ``problem`` (and get ``raw_problem`` on resume)."""


class RecordFileError(ValueError):
    """A record file that cannot be resumed (other settings, a damaged line). One line."""


def tree_records(task_id: str, problem: str, result: Any, prompt: str | None = None,
                 raw_problem: str | None = None) -> list[dict[str, Any]]:
    """The value targets of one grown tree: expanded nodes (mean value, visits) in
    pre-order, then every sampled program (its execution reward, one visit). Each row
    carries ``problem`` and, when given, the policy ``prompt`` (and ``raw_problem``)."""
    texts = {"problem": problem, **{k: v for k, v in (("prompt", prompt), ("raw_problem", raw_problem))
                                    if v is not None}}
    rows: list[dict[str, Any]] = []
    for node in result.root.walk():
        if node.expanded:
            rows.append({"task_id": task_id, "kind": "node", **texts, "state": node.state,
                         "value": node.value, "visits": node.visits, "depth": node.depth})
    for s in result.samples:
        rows.append({"task_id": task_id, "kind": "program", **texts, "state": s.code,
                     "value": 0.0 if s.value is None else s.value, "visits": 1, "depth": s.depth,
                     "finish_reason": s.finish_reason})
    return rows


def _dumps(row: Mapping[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n"


def _with_legacy(meta: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(meta)
    for key, defaults in LEGACY_DEFAULTS.items():
        if isinstance(out.get(key), Mapping):
            out[key] = {**defaults, **out[key]}
    return out


class ValueRecordFile:
    """The resumable JSONL file of per-task records (see the module docstring)."""

    def __init__(self, path: Path, settings: Mapping[str, Any]) -> None:
        self.path = path
        self.meta = path.with_name(path.name + ".meta.json")
        self.settings = json.loads(json.dumps({"format": FORMAT, **settings}, sort_keys=True))
        self.finished: dict[str, dict[str, Any]] = {}

    def open(self) -> ValueRecordFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.meta.exists():
            old = _with_legacy(json.loads(self.meta.read_text(encoding="utf-8")))
            for key in sorted(set(old) | set(self.settings)):
                if key not in NON_IDENTITY and old.get(key) != self.settings.get(key):
                    raise RecordFileError(
                        f"{self.path}: holds records made with {key}={json.dumps(old.get(key))}, "
                        f"now {json.dumps(self.settings.get(key))}; pass another --out or remove it")
            if "problem_field" in self.settings:  # one file, one meaning of ``problem``
                self.settings["problem_field"] = old.get("problem_field", "prompt")
        else:
            self.meta.write_text(json.dumps(self.settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self._repair()
        return self

    def _repair(self) -> None:
        rows, torn = read_log(self.path, RecordFileError)
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


@dataclass(frozen=True)
class ValuesConfig:
    """A collection: the shared run settings (benchmark, model, sampling, budget, seed,
    execution; no strategy) and the search constants (``MCTSConfig``)."""

    run: RunConfig
    mcts: Any  # restrl_eval.strategies.mcts.MCTSConfig

    def settings(self, benchmark: Any, eval_benchmarks: Sequence[str] = ()) -> dict[str, Any]:
        """What the meta file records (and a resume must match, but for ``NON_IDENTITY``),
        in the layout files were written with before ``RunConfig``. ``eval_benchmarks``:
        the evaluation sets the problems come from (recorded, and warned about)."""
        r, m, s = self.run, self.mcts, self.run.sampling
        out = {"bench": r.benchmark.name, "bench_options": dict(r.benchmark.options),
               "data_hash": benchmark.data_hash(), "model": r.model.model, "backend": r.model.backend,
               "budget": r.budget, "seed": r.seed,
               "mcts": {"c": m.c, "eps": m.eps, "k": m.k, "keep": m.keep, "leaves_per_call": m.leaves_per_call,
                        "child_credit": m.child_credit, "max_idle": m.max_idle},
               "sampling": {"temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens},
               "prompt_style": s.prompt_style, "evaluator": "exec", "problem_field": PROBLEM_FIELD,
               "eval_benchmark": bool(eval_benchmarks), "eval_benchmarks": list(eval_benchmarks)}
        if r.model.options:
            out["model_options"] = dict(r.model.options)
        return out

    def default_out(self, settings: Mapping[str, Any]) -> Path:
        """``values/<bench>__<model>__b<K>__s<seed>__<hash>.jsonl``; options at the values
        files were made with before they existed leave the hash as it was."""
        named = {k: v for k, v in settings.items() if k not in NON_IDENTITY}
        named["mcts"] = {k: v for k, v in settings["mcts"].items() if LEGACY_DEFAULTS["mcts"].get(k, object()) != v}
        digest = hashlib.sha256(json.dumps(named, sort_keys=True).encode()).hexdigest()[:8]
        return Path("values") / (f"{slug(settings['bench'])}__{slug(settings['model'])}__b{settings['budget']}"
                                 f"__s{settings['seed']}__{digest}.jsonl")


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def collect_values(cfg: ValuesConfig, benchmark: Any, policy: Any, tasks: Sequence[Any], store: ValueRecordFile,
                   on_task: Callable[[], None] | None = None) -> None:
    """Grow one exec-MCTS tree per task (``batch_tasks`` trees in lockstep) and append each
    task's records to ``store`` as soon as its chunk is done."""
    from restrl_eval.execution import make_executor
    from restrl_eval.strategies.base import task_seed
    from restrl_eval.strategies.common import raw_problem
    from restrl_eval.strategies.mcts import ExecutionEvaluator, SearchProblem, search_many

    r, s = cfg.run, cfg.run.sampling
    assert r.budget is not None
    chat = s.prompt_style == "chat"
    raw_field = store.settings.get("problem_field") == "raw"
    temperature = 0.7 if s.temperature is None else s.temperature
    with make_executor(r.execution.executor, r.execution.workers, sandbox=r.execution.sandbox,
                       preload=tuple(benchmark.preload)) as ex:
        evaluator = ExecutionEvaluator(benchmark, ex)
        for chunk in _chunks(tasks, r.execution.batch_tasks):
            problems = [SearchProblem(t, benchmark.prompt(t, s.prompt_style), task_seed(r.seed, t.task_id), r.budget)
                        for t in chunk]
            t0 = time.perf_counter()
            results = search_many(problems, policy, evaluator, benchmark.extract_code, cfg=cfg.mcts,
                                  temperature=temperature, top_p=s.top_p, max_tokens=s.max_tokens, chat=chat)
            log.debug("%d tree(s) in %.1fs", len(chunk), time.perf_counter() - t0)
            for task, problem, res in zip(chunk, problems, results):
                raw = raw_problem(benchmark, task)
                rows = (tree_records(task.task_id, raw, res, prompt=problem.prompt) if raw_field
                        else tree_records(task.task_id, problem.prompt, res, prompt=problem.prompt, raw_problem=raw))
                store.append(rows, _task_row(task.task_id, rows, res))
                if on_task is not None:
                    on_task()


def _task_row(task_id: str, rows: Sequence[Mapping[str, Any]], res: Any) -> dict[str, Any]:
    rewards = [s.value or 0.0 for s in res.samples]
    st = res.stats
    return {"task_id": task_id, "kind": "task", "samples": st.samples, "executions": st.executions,
            "nodes": sum(r["kind"] == "node" for r in rows), "best_reward": max(rewards),
            "mean_reward": sum(rewards) / len(rewards), "completion_tokens": st.completion_tokens,
            "prompt_tokens": st.prompt_tokens, "terminal_visits": st.terminal_visits,
            "root_reexpansions": st.root_reexpansions, "wall_s": round(st.wall_s, 3)}


def summarize(store: ValueRecordFile, task_ids: Sequence[str]) -> dict[str, Any]:
    """Counts over the finished tasks among ``task_ids``."""
    rows = [store.finished[t] for t in task_ids if t in store.finished]
    n = len(rows)
    return {"problems": n, "nodes": sum(r["nodes"] for r in rows), "programs": sum(r["samples"] for r in rows),
            "solved": sum(r["best_reward"] >= 1.0 for r in rows),
            "mean_best_reward": sum(r["best_reward"] for r in rows) / n if n else 0.0}
