"""Budget sweeps: every (strategy, budget) cell as a resumable run, one tidy CSV.

Why this shape: the paper's budget curves plot pass@1 against the number of complete
samples for ORM, PRM, ORM-MCTS and VM-MCTS. Each cell is an ordinary run directory (the
run store and run loop of ``restrl-eval run``), so a killed sweep resumes cell by cell
and task by task, and any cell can be inspected like a single run.

Cells share policy samples through ``SampleCache``: a request (prompt, prefix, seed,
sampling parameters, model) is answered from the cache when it was generated before with
at least as many samples. With a prefix-stable backend (sample ``k`` of a seeded request
does not depend on ``n``, as the transformers backend guarantees) a best-of-N cell at
budget 10 is the first 10 samples of the budget-100 cell, so cells run largest budget
first. The cache changes no result, only the work done; every cell records how many rows
it reused and how many it generated, and the CSV reports both.

Wall time stays comparable across budgets: the cache keeps each sample's original
generation time (its share of the policy call that made it), and a cell served from the
cache is charged that time (``cached_gen_s`` in its verdict rows, included in
``cost.wall_s``), as if it had generated the samples itself.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from restrl_eval.run.store import RunStore

log = logging.getLogger(__name__)

__all__ = [
    "CSV_FIELDS",
    "CachingPolicy",
    "ChargedStore",
    "CellOutcome",
    "SampleCache",
    "SweepCell",
    "cell_row",
    "model_key",
    "plan_cells",
    "request_key",
    "run_cell",
    "write_csv",
]

CSV_FIELDS = ("strategy", "budget", "bench", "tasks", "pass@1", "mean_reward", "candidates", "scorer_calls",
              "completion_tokens", "prompt_tokens", "wall_s", "reused_rows", "generated_rows", "run_dir")
"""Cost columns are means per task; ``pass@1`` is the benchmark's last (strictest) column,
and ``pass@1[<col>]`` columns follow when a benchmark has several (evalplus: base, plus)."""


@dataclass(frozen=True)
class SweepCell:
    strategy: str
    budget: int

    @property
    def name(self) -> str:
        return f"{self.strategy}__b{self.budget}"


def plan_cells(strategies: Sequence[str], budgets: Sequence[int]) -> list[SweepCell]:
    """Every (strategy, budget) pair, largest budget first (so smaller cells can reuse its
    samples), strategies in the order given."""
    return [SweepCell(s, b) for b in sorted(set(budgets), reverse=True) for s in dict.fromkeys(strategies)]


# -- the sample cache ---------------------------------------------------------------------
def request_key(model_key: str, request: Any) -> str:
    """Identity of a generation request, ``n`` excluded (reuse takes a prefix of samples)."""
    ident = {"model": model_key, "prompt": request.prompt, "prefix": request.prefix, "chat": request.chat,
             "temperature": request.temperature, "top_p": request.top_p, "max_tokens": request.max_tokens,
             "stop": list(request.stop), "seed": request.seed}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


class SampleCache:
    """Generations by request key, kept in an append-only JSONL file (``None``: memory only).

    A key keeps the largest set of samples seen. Each generation is stored as ``[text,
    prompt_tokens, completion_tokens, finish_reason, gen_s]``: ``gen_s`` is the seconds
    it took to generate (absent, 0, in caches written before it was kept). A torn or
    damaged line (a crash mid-write) is dropped on load and the file rewritten without it.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._items: dict[str, list[tuple[str, int, int, str, float]]] = {}
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        good: list[str] = []
        damaged = False
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    if not line.endswith("\n"):
                        raise ValueError("torn line")
                    row = json.loads(line)
                    gens = [(str(g[0]), int(g[1]), int(g[2]), str(g[3]), float(g[4]) if len(g) > 4 else 0.0)
                            for g in row["gens"]]
                except (ValueError, KeyError, TypeError):
                    damaged = True  # a crash mid-write: drop it, the samples are drawn again
                    continue
                good.append(line)
                if len(gens) > len(self._items.get(row["key"], ())):
                    self._items[row["key"]] = gens
        if damaged:  # rewrite without the damage, so later appends start on a fresh line
            log.warning("%s: dropped damaged cache line(s)", path)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text("".join(good), encoding="utf-8")
            os.replace(tmp, path)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, n: int, exact: bool = False) -> list[Any] | None:
        """The first ``n`` cached generations, or None (``exact``: only if exactly ``n`` cached)."""
        from restrl_eval.backends.base import Generation

        gens = self._items.get(key)
        if gens is None or len(gens) < n or (exact and len(gens) != n):
            return None
        return [Generation(*g[:4]) for g in gens[:n]]

    def seconds(self, key: str, n: int) -> float:
        """The original generation time of the first ``n`` cached generations of ``key``."""
        return float(sum(g[4] for g in self._items.get(key, ())[:n]))

    def put(self, key: str, generations: Sequence[Any], seconds: Sequence[float] | None = None) -> None:
        secs = list(seconds) if seconds is not None else [0.0] * len(generations)
        rows = [(g.text, int(g.prompt_tokens), int(g.completion_tokens), str(g.finish_reason), round(float(t), 6))
                for g, t in zip(generations, secs)]
        if len(rows) <= len(self._items.get(key, ())):
            return
        self._items[key] = rows
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"key": key, "gens": rows}, ensure_ascii=False) + "\n")
                f.flush()


class CachingPolicy:
    """A ``Policy`` that answers from a ``SampleCache`` when it can and counts what it reused.

    ``cache=None`` reuses nothing and only counts.
    ``prefix_stable``: whether a cached larger request may answer a smaller one (true for
    the transformers backend, whose sample ``k`` depends only on the seed and ``k``).
    Counters: ``reused_rows`` / ``generated_rows`` (samples), ``on_update`` is called after
    every ``generate`` so a caller can persist them.
    """

    def __init__(self, policy: Any, cache: SampleCache | None, model_key: str, *, prefix_stable: bool | None = None,
                 on_update: Callable[[CachingPolicy], None] | None = None) -> None:
        self.policy, self.cache, self.model_key = policy, cache, model_key
        self.name = getattr(policy, "name", "policy")
        self.prefix_stable = (getattr(policy, "prefix_stable", self.name == "transformers")
                              if prefix_stable is None else prefix_stable)
        self.on_update = on_update
        self.reused_rows = 0
        self.generated_rows = 0
        self._charges: dict[str, float] = {}  # prompt -> generation seconds of reused rows

    def take_charge(self, prompt: str | None) -> float:
        """The original generation time of the rows reused for ``prompt`` since the last
        call (the run store adds it to that task's wall time)."""
        return self._charges.pop(prompt, 0.0) if prompt is not None else 0.0

    def describe(self) -> dict[str, Any]:
        return self.policy.describe()

    def generate(self, requests: Sequence[Any]) -> list[list[Any]]:
        keys = [request_key(self.model_key, r) for r in requests]
        out: list[list[Any] | None] = [
            self.cache.get(k, r.n, exact=not self.prefix_stable) if self.cache is not None else None
            for k, r in zip(keys, requests)]
        missing = [i for i, o in enumerate(out) if o is None]
        if missing:
            t0 = time.perf_counter()
            fresh = self.policy.generate([requests[i] for i in missing])
            elapsed = time.perf_counter() - t0
            if len(fresh) != len(missing):
                raise RuntimeError(f"policy returned {len(fresh)} results for {len(missing)} requests")
            total = sum(int(g.completion_tokens) + 1 for gens in fresh for g in gens) or 1
            for i, gens in zip(missing, fresh):
                out[i] = list(gens)
                if self.cache is not None:  # each row's share of the call, by tokens (as strategies share it)
                    self.cache.put(keys[i], gens, [elapsed * (int(g.completion_tokens) + 1) / total for g in gens])
                self.generated_rows += len(gens)
        missed = set(missing)
        if self.cache is not None:
            for i, r in enumerate(requests):
                if i not in missed:
                    self._charges[r.prompt] = self._charges.get(r.prompt, 0.0) + self.cache.seconds(keys[i], r.n)
        self.reused_rows += sum(r.n for i, r in enumerate(requests) if i not in missed)
        if self.on_update is not None:
            self.on_update(self)
        return [o for o in out if o is not None]


# -- cells and the CSV --------------------------------------------------------------------
@dataclass(frozen=True)
class CellOutcome:
    cell: SweepCell
    run_dir: Path
    summary: Mapping[str, Any]
    reused_rows: int
    generated_rows: int


def cell_row(outcome: CellOutcome, bench: str) -> dict[str, Any]:
    """One tidy CSV row: pass@1 per column and mean costs per task."""
    s = outcome.summary
    cols = list(s.get("columns") or s["pass_rate"])
    per = s["cost_per_task"]
    row: dict[str, Any] = {
        "strategy": outcome.cell.strategy, "budget": outcome.cell.budget, "bench": bench, "tasks": s["tasks"],
        "pass@1": round(s["pass_rate"][cols[-1]], 6), "mean_reward": round(float(s.get("mean_reward", 0.0)), 6),
        "candidates": round(per["candidates"], 4), "scorer_calls": round(per["scorer_calls"], 4),
        "completion_tokens": round(per["completion_tokens"], 2), "prompt_tokens": round(per["prompt_tokens"], 2),
        "wall_s": round(per["wall_s"], 4), "reused_rows": outcome.reused_rows,
        "generated_rows": outcome.generated_rows, "run_dir": str(outcome.run_dir),
    }
    if len(cols) > 1:
        row.update({f"pass@1[{c}]": round(s["pass_rate"][c], 6) for c in cols})
    return row


def write_csv(path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write rows atomically (the file is whole or absent, never half-written)."""
    path = Path(path)
    extra = sorted({k for r in rows for k in r} - set(CSV_FIELDS))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*CSV_FIELDS, *extra], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_reuse(run_dir: Path) -> dict[str, int]:
    p = run_dir / "reuse.json"
    if not p.exists():
        return {"reused_rows": 0, "generated_rows": 0}
    return {k: int(v) for k, v in json.loads(p.read_text(encoding="utf-8")).items()}


def write_reuse(run_dir: Path, counts: Mapping[str, int]) -> None:
    tmp = run_dir / ".reuse.json.tmp"
    tmp.write_text(json.dumps(dict(counts), sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, run_dir / "reuse.json")


def model_key(policy: Any) -> str:
    """What identifies a policy's samples: a hash of its ``describe()`` (weights sha256...)."""
    describe = getattr(policy, "describe", None)
    ident = describe() if callable(describe) else {"name": type(policy).__name__}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()


class ChargedStore(RunStore):
    """A run store that adds, to each task's wall time, the original generation time of
    the cached samples the task reused (see the module docstring)."""

    charge: tuple[CachingPolicy, Mapping[str, str]] | None = None

    def append(self, task_id: str, samples: Sequence[Mapping[str, Any]], verdict: Mapping[str, Any]) -> None:
        if self.charge is not None:
            policy, prompts = self.charge
            seconds = policy.take_charge(prompts.get(task_id))
            if seconds:
                cost = dict(verdict.get("cost") or {})
                cost["wall_s"] = round(float(cost.get("wall_s", 0.0)) + seconds, 6)
                verdict = {**verdict, "cost": cost, "cached_gen_s": round(seconds, 6)}
        super().append(task_id, samples, verdict)


def run_cell(
    cell: SweepCell,
    *,
    strategy: Any,
    ctx: Any,
    cache: SampleCache | None,
    model_id: str,
    benchmark: Any,
    tasks: Sequence[Any],
    executor: Any,
    run_dir: Path,
    config: Mapping[str, Any],
    progress: bool | None = None,
    batch_tasks: int = 1,
) -> CellOutcome:
    """Run (or resume) one cell in ``run_dir`` through the run store and the run loop.

    ``ctx.policy`` is wrapped in a ``CachingPolicy`` over ``cache`` (None: no reuse); the
    cell's reuse counters are kept in ``run_dir/reuse.json`` across attempts.
    """
    import dataclasses

    from restrl_eval.run.runner import run_tasks

    store = cast(ChargedStore, ChargedStore.open(run_dir, config))
    base = read_reuse(run_dir)

    def persist(p: CachingPolicy) -> None:
        write_reuse(run_dir, {"reused_rows": base["reused_rows"] + p.reused_rows,
                              "generated_rows": base["generated_rows"] + p.generated_rows})

    policy = CachingPolicy(ctx.policy, cache, model_id, on_update=persist)
    store.charge = (policy, {t.task_id: ctx.prompt(t) for t in tasks})
    summary = run_tasks(benchmark, strategy, dataclasses.replace(ctx, policy=policy), store, executor, tasks,
                        progress=progress, batch_tasks=batch_tasks)
    counts = read_reuse(run_dir)
    return CellOutcome(cell, run_dir, summary, counts["reused_rows"], counts["generated_rows"])
