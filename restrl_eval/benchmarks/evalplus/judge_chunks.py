"""Chunked judging of a long plus phase: input chunks on several workers, merged in order.

Why: one task's thousands of plus inputs run on one worker (Mbpp/599 alone holds a worker
for ~20 s), so a run's makespan can be one worker's queue while the others idle. With
``chunk_s`` set, a plus phase still undecided after stage one whose ground-truth time is
at least two chunks' worth is split into contiguous input chunks of about ``chunk_s``
ground-truth seconds each (at most ``MAX_CHUNKS``); each chunk runs in a fresh process, as
a phase does, and the chunks' outputs are merged so that the first failure by input order
decides, exactly as evalplus' sequential fast check would. The phase budget is applied to
the chunks' per-input times added up in input order: where the sum crosses the budget, the
merged phase is "killed" there, as evalplus' process would be.

Not exact for one kind of program, which is why it is off by default: a program whose
answers depend on earlier calls in the same process (call counters, caches that go
wrong, mutated globals) sees a fresh process at each chunk's first input. The first chunk
holds at least the base phase's length plus one inputs and every chunk ``MIN_INPUTS``, so
a program that changes behaviour after "the base phase" fails at the same input; beyond
that, training rewards may opt in (``-B chunk_s=2``), the evalplus metric should not.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_CHUNKS", "MIN_INPUTS", "chunk_bounds", "chunk_times", "merge_chunks"]

MAX_CHUNKS = 8
MIN_INPUTS = 32

Outputs = dict[int, tuple[str, Any]]


def chunk_bounds(times: Sequence[float], chunk_s: float | None, first_min: int) -> list[tuple[int, int]]:
    """``[(start, stop)]`` covering ``range(len(times))`` in order: one piece unless the
    phase's ground-truth ``times`` add up to two ``chunk_s`` or more."""
    n = len(times)
    total = float(sum(times))
    k = 0 if chunk_s is None or chunk_s <= 0 else min(MAX_CHUNKS, int(total // chunk_s))
    if k < 2 or n < max(first_min, MIN_INPUTS) + MIN_INPUTS:
        return [(0, n)]
    bounds: list[tuple[int, int]] = []
    target, start, acc = total / k, 0, 0.0
    for i, t in enumerate(times):
        acc += t
        size, least = i + 1 - start, first_min if not bounds else MIN_INPUTS
        if acc >= target and size >= max(least, MIN_INPUTS) and n - (i + 1) >= MIN_INPUTS and len(bounds) < k - 1:
            bounds.append((start, i + 1))
            start, acc = i + 1, 0.0
    bounds.append((start, n))
    return bounds


def merge_chunks(bounds: Sequence[tuple[int, int]], reports: Sequence[tuple[Outputs, str | None, str]],
                 times: Sequence[Mapping[int, float]], budget: float) -> tuple[Outputs, str | None, str]:
    """One phase report (outputs by index, end, why) from the chunks' reports, in order.

    Walks the inputs in order and stops where the sequential phase would have stopped
    reporting: at a chunk's first missing output (its end then stands for the phase's) or
    where the added-up call times cross ``budget`` ("killed"). A wrong output needs no
    stop here: ``oracle.judge_phase`` stops at the first failure by input order."""
    merged: Outputs = {}
    spent = 0.0
    for k, ((start, stop), (outs, end, why), took) in enumerate(zip(bounds, reports, times)):
        for j in range(stop - start):
            got = outs.get(j)
            if got is None:
                if end == "load_error" and k > 0:
                    end = None  # it loaded in the first chunk: a process that died here
                return merged, end, why
            if got[0] != "x":
                spent += float(took.get(j, 0.0))
                if spent >= budget:
                    return merged, "killed", ""
            merged[start + j] = got
        if end != "done":  # every output came, then the process ended otherwise
            return merged, end, why
    return merged, "done", ""


def chunk_times(messages: Sequence[Mapping[str, Any]]) -> dict[int, float]:
    """Per-input call seconds a chunk's driver reported (``t``), first report wins."""
    out: dict[int, float] = {}
    for m in messages:
        i, t = m.get("i"), m.get("t")
        if m.get("kind") == "o" and type(i) is int and isinstance(t, (int, float)) and i not in out:
            out[i] = float(t)
    return out

