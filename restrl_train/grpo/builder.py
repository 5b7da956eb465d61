"""ReST-GRPO training data from judged sample groups (pure and seeded).

The official recipe (THUDM/ReST-RL ``experiment/process_gen_data.py --mode grpo``): drop a
problem whose population std of sampled rewards is below sigma0 (its group would give no
gradient); keep its base prompt; when its best sample scores >= r0, cut that program at
line boundaries and add k = ceil(0.5 L) partial-solution prompts, prefix j drawn with
weight alpha^(j-1) (short prefixes favoured). The official draw is unseeded
``random.choices`` (with replacement), may pick j = L (the full solution: the policy
then only learns to close the fence) and blank or comment-only prefixes. Defaults here
fix those; ``replace=True, include_full=True, keep_blank=True`` restore them exactly
(one ``random.Random(seed)`` consumed problem by problem, as the official global RNG).

GRPO (``mode="basic"``) and DAPO reuse the builder: no prefixes, and for GRPO no filter.
Prompts longer than ``max_prompt_tokens`` lose prefix lines from the end (code side) or
are dropped; the problem text is never truncated.
"""
from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["SampleGroup", "Record", "BuildOptions", "BuildStats", "build_records", "prefix_candidates",
           "draw_prefixes", "group_std", "to_dataset"]

Render = Callable[[str, str], str]  # (problem prompt, partial_state) -> the model's input text
CountTokens = Callable[[str], int]


@dataclass(frozen=True)
class SampleGroup:
    """One problem's judged samples (what the sampler writes, one JSONL line)."""

    task_id: str
    domain: str
    problem: str  # the instruction the policy sees (benchmark's chat prompt)
    tests: str  # JSON of the test snippets (tasks domain) or "" (a registered benchmark)
    completions: tuple[str, ...]  # code after the prefill + init_state, cut at the stop
    rewards: tuple[float, ...]
    init_state: str = ""


@dataclass(frozen=True)
class Record:
    """One training prompt. ``prefix_lines`` = 0 for a base prompt."""

    prompt: str
    partial_state: str
    init_state: str
    tests: str
    task_id: str
    bench: str
    prefix_lines: int
    group_std: float
    best_reward: float
    problem: str = ""  # the instruction alone (exporters to chat-format trainers need it)


@dataclass(frozen=True)
class BuildOptions:
    mode: str = field(default="rest", metadata={"help": "rest (filter + prefixes), basic (GRPO: every problem, "
                                                        "no prefixes) or filter (DAPO: drop zero-std groups only)"})
    sigma0: float = field(default=0.05, metadata={"help": "drop problems whose population reward std is below"})
    r0: float = field(default=0.9, metadata={"help": "add prefixes of the best sample when its reward >= r0"})
    n_sample: float = field(default=0.5, metadata={"help": "k = ceil(n_sample * L) prefixes; an int >= 1 is k itself"})
    alpha: float = field(default=0.95, metadata={"help": "prefix j is drawn with weight alpha^(j-1)"})
    replace: bool = field(default=False, metadata={"help": "official: draw with replacement (random.choices)"})
    include_full: bool = field(default=False, metadata={"help": "official: j = L (the whole solution) may be drawn"})
    keep_blank: bool = field(default=False, metadata={"help": "official: keep prefixes ending in blank/comment lines"})
    seed: int = field(default=0, metadata={"help": "seed of the prefix draws"})
    max_prompt_tokens: int | None = field(default=None, metadata={"help": "shorten (code side) or drop longer prompts"})
    zero_std_eps: float = field(default=1e-9, metadata={"help": "mode=filter: std at or below this is 'zero'"})


@dataclass
class BuildStats:
    problems: int = 0
    dropped_low_std: int = 0
    base_records: int = 0
    prefix_records: int = 0
    gated_by_r0: int = 0
    shortened: int = 0
    dropped_too_long: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def group_std(rewards: Sequence[float]) -> float:
    """Population std (numpy's default, as the official ``np.std``)."""
    return statistics.pstdev(rewards) if rewards else 0.0


def _is_blank_prefix(lines: Sequence[str]) -> bool:
    last = lines[-1].strip()
    return not last or last.startswith("#")


def prefix_candidates(program: str, include_full: bool, keep_blank: bool) -> tuple[list[int], int]:
    """The admissible prefix lengths j (lines) of ``program`` and its line count L.

    Default: j < L and the prefix's last line holds code (a prefix ending in a blank or
    comment line is the same decision point as the shorter one, repeated)."""
    lines = program.rstrip().split("\n")
    n = len(lines)
    js = [j for j in range(1, n + 1) if (include_full or j < n) and (keep_blank or not _is_blank_prefix(lines[:j]))]
    return js, n


def prefix_text(program: str, j: int) -> str:
    return "".join(line + "\n" for line in program.rstrip().split("\n")[:j])


def draw_prefixes(rng: random.Random, js: Sequence[int], k: int, alpha: float, replace: bool) -> list[int]:
    """k prefix lengths with weights alpha^(j-1). With replacement this is exactly the
    official ``random.choices(js, weights, k=k)``; without, successive weighted draws
    from what is left (k is capped at len(js))."""
    if not js or k <= 0:
        return []
    weights = [alpha ** (j - 1) for j in js]
    if replace:
        return rng.choices(list(js), weights=weights, k=k)
    pool, w, out = list(js), list(weights), []
    for _ in range(min(k, len(pool))):
        i = rng.choices(range(len(pool)), weights=w, k=1)[0]
        out.append(pool.pop(i))
        w.pop(i)
    return out


def _k(n_sample: float, n_lines: int) -> int:
    if float(n_sample).is_integer() and n_sample >= 1:
        return int(n_sample)
    return math.ceil(n_lines * n_sample)


def _fit(problem: str, state: str, render: Render, count: CountTokens | None, limit: int | None) -> bool:
    return limit is None or count is None or count(render(problem, state)) <= limit


def _prefix_records(g: SampleGroup, base: Record, opts: BuildOptions, rng: random.Random, render: Render,
                    count: CountTokens | None, stats: BuildStats) -> list[Record]:
    best_i = max(range(len(g.rewards)), key=lambda i: g.rewards[i])  # the first max, as the official
    program = g.completions[best_i]
    js, n = prefix_candidates(program, opts.include_full, opts.keep_blank)
    out = []
    for j in draw_prefixes(rng, js, _k(opts.n_sample, n), opts.alpha, opts.replace):
        jj = j
        while jj >= 1 and not _fit(g.problem, g.init_state + prefix_text(program, jj), render, count,
                                   opts.max_prompt_tokens):
            jj -= 1  # shorten on the code side
        if jj < 1:
            stats.dropped_too_long += 1
            continue
        stats.shortened += jj != j
        state = g.init_state + prefix_text(program, jj)
        out.append(Record(render(g.problem, state), state, g.init_state, g.tests, g.task_id, g.domain, jj,
                          base.group_std, base.best_reward, g.problem))
    return out


def build_records(groups: Iterable[SampleGroup], render: Render, opts: BuildOptions = BuildOptions(),
                  count_tokens: CountTokens | None = None) -> tuple[list[Record], BuildStats]:
    """Training records from judged groups, in input order (base prompt, then its prefixes)."""
    if opts.mode not in ("rest", "basic", "filter"):
        raise ValueError(f"mode must be rest, basic or filter, not {opts.mode!r}")
    rng = random.Random(opts.seed)
    stats, records = BuildStats(), []
    for g in groups:
        stats.problems += 1
        std = group_std(g.rewards)
        best = max(g.rewards) if g.rewards else 0.0
        if (opts.mode == "rest" and std < opts.sigma0) or (opts.mode == "filter" and std <= opts.zero_std_eps):
            stats.dropped_low_std += 1
            continue
        if not _fit(g.problem, g.init_state, render, count_tokens, opts.max_prompt_tokens):
            stats.dropped_too_long += 1  # the problem itself is too long: never cut it
            continue
        base = Record(render(g.problem, g.init_state), g.init_state, g.init_state, g.tests, g.task_id, g.domain, 0,
                      std, best, g.problem)
        records.append(base)
        stats.base_records += 1
        if opts.mode != "rest":
            continue
        if best < opts.r0:
            stats.gated_by_r0 += 1
            continue
        extra = _prefix_records(g, base, opts, rng, render, count_tokens, stats)
        records.extend(extra)
        stats.prefix_records += len(extra)
    return records, stats


def to_dataset(records: Sequence[Record]) -> Any:
    """A ``datasets.Dataset`` with one column per ``Record`` field (``prompt`` first)."""
    from datasets import Dataset

    return Dataset.from_list([asdict(r) for r in records])
