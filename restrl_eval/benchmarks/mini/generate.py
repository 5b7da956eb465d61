"""The deterministic generator of the ``mini`` splits: seeded streams, formatted, deduplicated.

Why streams: each split is drawn from its own seeded ``random.Random`` (string seeds hash
the same in every process and on every platform), so a split of ``n`` tasks is always
the first ``n`` distinct prompts of its stream: a smaller split is a prefix of a larger
one, and nothing depends on the order in which splits are asked for. Held-out prompts
win: ``test`` is drawn first, ``val`` drops test's prompts, ``train`` drops both (at the
held-out sizes in use), so no prompt is ever shared between splits.
"""
from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from restrl_eval.benchmarks.mini.families import DEFAULT_MIX, FAMILIES, Draft

__all__ = ["GENERATOR_VERSION", "SPLITS", "MiniTask", "generate", "generate_split", "generate_splits", "format_prompt", "splits_hash"]

GENERATOR_VERSION = "mini-v1"
SPLITS: dict[str, tuple[int, int]] = {"train": (20000, 1), "val": (2000, 2), "test": (500, 3)}
"""split -> (default size, default seed)."""


@dataclass(frozen=True)
class MiniTask:
    """One generated task. ``solution`` continues ``prompt`` into a complete program (the
    body, like HumanEval's ``canonical_solution``); ``cases`` are the hidden tests as
    ``(args, expected)``; ``tests`` the same as assert statements."""

    task_id: str
    family: str
    difficulty: int
    prompt: str
    entry_point: str
    solution: str
    solutions: tuple[str, ...]
    cases: tuple[tuple[tuple[Any, ...], Any], ...]

    @property
    def tests(self) -> tuple[str, ...]:
        return tuple(f"assert {self.entry_point}({_call(args)}) == {want!r}" for args, want in self.cases)


def _call(args: tuple[Any, ...]) -> str:
    return ", ".join(repr(a) for a in args)


def format_prompt(d: Draft) -> str:
    """Signature plus docstring: the spec and its doctest examples, ending in a newline."""
    lines = [f"def {d.name}({d.params}):", f'    """{d.spec}', ""]
    for args in d.examples:
        lines += [f"    >>> {d.name}({_call(args)})", f"    {d.func(*copy.deepcopy(args))!r}"]
    lines.append('    """')
    return "\n".join(lines) + "\n"


def _check_mix(mix: Mapping[str, float]) -> list[tuple[str, float]]:
    unknown = sorted(set(mix) - set(FAMILIES))
    if unknown:
        raise ValueError(f"mini: unknown task families {', '.join(unknown)} (known: {', '.join(FAMILIES)})")
    weights = [(name, float(mix.get(name, 0.0))) for name in FAMILIES]
    if any(w < 0 for _, w in weights) or not any(w > 0 for _, w in weights):
        raise ValueError("mini: family weights must be >= 0 with at least one > 0")
    return [(n, w) for n, w in weights if w > 0]


def generate(split: str, n: int, seed: int, mix: Mapping[str, float] | None = None,
             exclude: frozenset[str] = frozenset()) -> list[MiniTask]:
    """The first ``n`` distinct prompts of ``split``'s stream that are not in ``exclude``."""
    if n < 0:
        raise ValueError(f"mini: split size must be >= 0, got {n}")
    weights = _check_mix(DEFAULT_MIX if mix is None else mix)
    names, w = [n_ for n_, _ in weights], [w_ for _, w_ in weights]
    rng = random.Random(f"restrl-{GENERATOR_VERSION}:{split}:{seed}")
    out: list[MiniTask] = []
    seen: set[str] = set()
    for _ in range(20 * n + 100):
        if len(out) >= n:
            break
        family = rng.choices(names, w)[0]
        draft = FAMILIES[family](rng)
        # the first (multi-line) style three times in four: few copyable one-liners
        pick = 0 if rng.random() < 0.75 else rng.randrange(len(draft.solutions))
        prompt = format_prompt(draft)
        if prompt in seen or prompt in exclude:
            continue
        seen.add(prompt)
        cases = tuple((args, draft.func(*copy.deepcopy(args))) for args in draft.inputs)
        out.append(MiniTask(f"mini-{split}/{len(out)}", family, draft.difficulty, prompt, draft.name,
                            draft.solutions[pick], draft.solutions, cases))
    if len(out) < n:
        raise ValueError(f"mini: could draw only {len(out)} distinct {split} tasks of {n} (mix too narrow)")
    return out


def _mix_key(mix: Mapping[str, float] | None) -> tuple[tuple[str, float], ...] | None:
    return None if mix is None else tuple(sorted((k, float(v)) for k, v in mix.items()))


_NEEDS = {"test": (), "val": ("test",), "train": ("test", "val")}
"""Which held-out splits a split must avoid (their prompts are removed from it)."""


@lru_cache(maxsize=16)
def _split(split: str, sizes: tuple[tuple[str, int, int], ...], mix: tuple[tuple[str, float], ...] | None
           ) -> tuple[MiniTask, ...]:
    by = {s: (n, seed) for s, n, seed in sizes}
    held = frozenset(t.prompt for other in _NEEDS[split] for t in _split(other, sizes, mix))
    return tuple(generate(split, *by[split], mix=dict(mix) if mix is not None else None, exclude=held))


def generate_split(split: str, sizes: Mapping[str, int] | None = None, seeds: Mapping[str, int] | None = None,
                   mix: Mapping[str, float] | None = None) -> tuple[MiniTask, ...]:
    """One split, its prompts disjoint from the held-out splits it must avoid (at their
    sizes in ``sizes``, default sizes otherwise). Only the splits needed are drawn."""
    sizes, seeds = dict(sizes or {}), dict(seeds or {})
    unknown = sorted((set(sizes) | set(seeds) | {split}) - set(SPLITS))
    if unknown:
        raise ValueError(f"mini: unknown splits {', '.join(unknown)} (train, val, test)")
    key = tuple((s, int(sizes.get(s, d)), int(seeds.get(s, sd))) for s, (d, sd) in SPLITS.items())
    return _split(split, key, _mix_key(mix))


def generate_splits(sizes: Mapping[str, int] | None = None, seeds: Mapping[str, int] | None = None,
                    mix: Mapping[str, float] | None = None) -> dict[str, tuple[MiniTask, ...]]:
    """All three splits, prompts disjoint. ``sizes``/``seeds`` override the defaults per split."""
    return {s: generate_split(s, sizes, seeds, mix) for s in SPLITS}


def splits_hash(tasks: tuple[MiniTask, ...]) -> str:
    """sha256 over the tasks' prompts, solutions and hidden tests (the run's ``data_hash``)."""
    h = hashlib.sha256(GENERATOR_VERSION.encode())
    for t in tasks:
        h.update(json.dumps([t.task_id, t.prompt, t.solution, [list(c[0]) + [c[1]] for c in t.cases]]).encode())
    return h.hexdigest()
