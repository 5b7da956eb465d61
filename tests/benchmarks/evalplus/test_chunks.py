"""Chunked judging of long plus phases (``judge_chunks``): the bounds, the in-order merge,
and the verdicts on a slice of the parity corpus, equal to the unchunked ones."""
from __future__ import annotations

import pytest

from restrl_eval.benchmarks import BenchmarkError, get_benchmark
from restrl_eval.benchmarks.evalplus.judge_chunks import MIN_INPUTS, chunk_bounds, merge_chunks
from restrl_eval.execution import Executor
from restrl_eval.testing.evalplus_parity import corpus


def test_bounds_cover_the_inputs_in_order_and_respect_the_minimums():
    times = [0.01] * 1000
    bounds = chunk_bounds(times, 1.0, first_min=40)
    assert bounds[0][0] == 0 and bounds[-1][1] == 1000 and len(bounds) == 8
    assert all(a == b for (_, a), (b, _) in zip(bounds, bounds[1:]))
    assert bounds[0][1] >= 40 and all(b - a >= MIN_INPUTS for a, b in bounds)
    assert chunk_bounds(times, None, 1) == [(0, 1000)]  # off
    assert chunk_bounds(times, 6.0, 1) == [(0, 1000)]  # under two chunks' worth
    assert chunk_bounds([1.0] * 50, 0.1, 1) == [(0, 50)]  # too few inputs to give each chunk its minimum


def test_merge_keeps_the_first_failure_by_input_order():
    bounds = [(0, 2), (2, 4)]
    ok = ({0: ("v", 1), 1: ("v", 2)}, "done", "")
    dead = ({0: ("v", 3)}, None, "")
    merged, end, _ = merge_chunks(bounds, [ok, dead], [{}, {}], budget=10.0)
    assert merged == {0: ("v", 1), 1: ("v", 2), 2: ("v", 3)} and end is None  # killed at input 3
    err = ({0: ("x", "ValueError")}, "error", "")
    assert merge_chunks(bounds, [err, ok], [{}, {}], 10.0) == ({0: ("x", "ValueError")}, "error", "")
    # the phase budget applies to the call times added up in input order
    merged, end, _ = merge_chunks(bounds, [ok, ok], [{0: 4.0, 1: 4.0}, {0: 4.0, 1: 4.0}], budget=10.0)
    assert end == "killed" and sorted(merged) == [0, 1]
    assert merge_chunks(bounds, [ok, ok], [{}, {}], 10.0)[1] == "done"


@pytest.fixture(scope="module")
def benches(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # module scope: the function-scoped monkeypatch cannot serve
        mp.setenv("RESTRL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        plain, chunked = get_benchmark("humaneval+"), get_benchmark("humaneval+", chunk_s=1e-4)
        with Executor(workers=2, preload=plain.preload) as ex:
            yield plain, chunked, ex


def _key(v):
    d = v.details
    return (v.status, v.passed, v.tests_passed, d["base"], d["plus"], d["base_fail_tests"], d["plus_fail_tests"])


def test_chunked_verdicts_equal_unchunked_ones_on_a_corpus_slice(benches):
    """Every corpus variant of the first tasks with 400+ plus inputs (canonical, wrong from
    the first call, wrong only on plus, crashing on plus, endless on plus, wrong type,
    float near misses...), judged with every long plus phase split in up to 8 chunks."""
    plain, chunked, ex = benches
    tasks = [t for t in plain.tasks()[:16] if len(plain.dataset.problems[t.task_id].plus_input) >= 400][:8]
    plain.prepare([t.task_id for t in tasks], ex)
    samples = [s for s in corpus.build(("humaneval+",))["humaneval+"] if s["task_id"] in {t.task_id for t in tasks}]
    split = 0
    for t in tasks:
        progs = [s["solution"] for s in samples if s["task_id"] == t.task_id]
        want = [_key(v) for v in plain.check(t, progs, ex)]
        got = [_key(v) for v in chunked.check(t, progs, ex)]
        assert got == want, t.task_id
        split += len(chunked.judge._chunks(t.task_id)) > 1
    assert len(tasks) >= 4 and split >= 4  # the slice really was judged in chunks


def test_chunk_s_must_be_positive():
    with pytest.raises(BenchmarkError, match="chunk_s"):
        get_benchmark("mbpp+", chunk_s=0)
