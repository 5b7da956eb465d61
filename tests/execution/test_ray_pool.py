"""The Ray executor on a real local two-node Ray cluster: the same verdicts as the local
executor, and a node killed mid-batch loses no verdict.

Kept short for CI (one cluster for the module, one CPU per node, one sandbox worker per
node); skipped when ray is not installed (``pip install 'restrl[ray]'``).
"""
from __future__ import annotations

import threading

import pytest

from restrl_eval.execution import Executor, Job, Limits, SandboxUnavailable, Status
from restrl_eval.execution.ray_pool import RayExecutor, _check_reachable, make_executor, parse_executor_spec

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = pytest.mark.ray

# programs with known outcomes: every status the executor decides from a raw report
CORPUS = [
    Job("print(sum(range(10)))\n", tag="pass"),
    Job("print(input()[::-1])\n", stdin="abc\n", tag="stdin"),
    Job("raise ValueError('boom')\n", tag="error"),
    Job("import sys\nsys.exit(3)\n", tag="exit"),
    Job("while True:\n    pass\n", limits=Limits(timeout_s=1.0), tag="timeout"),
    Job("x = bytearray(400 << 20)\n", limits=Limits(memory_mb=200), tag="oom"),
    Job("import os\nos.fork()\n", tag="fork-denied"),
    Job("import time\ntime.sleep(0.2)\nprint('slept')\n", tag="sleep"),
]


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": False,
        "_system_config": {"health_check_period_ms": 1000, "health_check_failure_threshold": 3}})
    c.add_node(num_cpus=1)
    ray.init(address=c.address, log_to_driver=False, include_dashboard=False)
    c.wait_for_nodes()
    try:
        yield c
    finally:
        ray.shutdown()
        c.shutdown()


@pytest.fixture(scope="module")
def ray_ex(cluster):
    with RayExecutor(workers_per_node=1) as ex:
        yield ex


def _key(r):
    return (r.tag, r.status, r.stdout, [(t.name, t.status) for t in r.tests])


def test_spec_parsing():
    assert parse_executor_spec(None) == ("local", None)
    assert parse_executor_spec("ray://head:10001") == ("ray", "ray://head:10001")
    assert parse_executor_spec("ray:10.0.0.1:6379") == ("ray", "10.0.0.1:6379")
    with pytest.raises(ValueError, match="--executor 'gpu'"):
        parse_executor_spec("gpu")
    with pytest.raises(SandboxUnavailable, match="no Ray cluster at 'ray://127.0.0.1:1'"):
        _check_reachable("ray://127.0.0.1:1")  # refused in seconds, not after ray.init's minutes of retries
    local = make_executor("local", 1)
    try:
        assert isinstance(local, Executor)
    finally:
        local.close()


def test_pools_on_both_nodes(ray_ex, cluster):
    assert len(ray_ex.node_reports) == 2 and ray_ex.n_workers == 2
    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert set(ray_ex.node_reports) == nodes
    assert ray_ex.report.level == next(iter(ray_ex.node_reports.values())).level


def test_same_verdicts_as_local_executor(ray_ex):
    jobs = CORPUS * 3
    got = ray_ex.run_many(jobs)
    with Executor(workers=1) as local:
        want = local.run_many(jobs)
    assert [_key(r) for r in got] == [_key(r) for r in want]
    assert {r.tag: r.status for r in got}["timeout"] is Status.TIMEOUT
    assert {r.tag: r.status for r in got}["pass"] is Status.PASS


def test_same_parity_corpus_verdicts_as_local(ray_ex):
    """A slice of the evalplus parity corpus (HumanEval/0-7: 30 programs, 13 variant kinds:
    canonical, off by one, wrong type, float tolerance, exceptions, timeouts, early exit...)
    judged by the HumanEval+ benchmark through each executor."""
    import collections

    from restrl_eval.benchmarks import get_benchmark
    from restrl_eval.testing.evalplus_parity.corpus import build

    rows = [r for r in build(("humaneval+",))["humaneval+"] if int(r["task_id"].split("/")[1]) < 8]
    by_task = collections.defaultdict(list)
    for r in rows:
        by_task[r["task_id"]].append(r["solution"])
    bench = get_benchmark("humaneval+")
    with Executor(workers=1) as local:
        bench.prepare(list(by_task), local)
        want = {tid: bench.check(bench.task(tid), progs, local) for tid, progs in by_task.items()}
    got = {tid: bench.check(bench.task(tid), progs, ray_ex) for tid, progs in by_task.items()}

    def key(vs):
        return [(v.passed, v.status, dict(v.details)) for v in vs]

    assert {t: key(v) for t, v in got.items()} == {t: key(v) for t, v in want.items()}
    statuses = collections.Counter(v.status for vs in got.values() for v in vs)
    assert len(rows) == 30 and statuses["pass"] >= 8 and statuses["fail"] >= 8


def test_concurrent_callers(ray_ex):
    """``evaluate`` and the GRPO reward call run_many from many threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    def batch(k):
        return [r.stdout for r in ray_ex.run_many([Job(f"print({k} * {i})\n") for i in range(5)])]

    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(batch, range(8)))
    assert outs == [[f"{k * i}\n" for i in range(5)] for k in range(8)]


def test_auto_spec_finds_the_cluster(cluster, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    ex = make_executor("auto", 1)
    try:
        assert isinstance(ex, RayExecutor) and len(ex.nodes) == 2
        assert ex.run(Job("print(6 * 7)\n")).stdout == "42\n"
    finally:
        ex.close()


def test_node_killed_mid_batch_loses_no_verdict(cluster):
    extra = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    jobs = [Job(f"import time\ntime.sleep(0.3)\nprint({i})\n", tag=str(i)) for i in range(24)]
    with RayExecutor(workers_per_node=1, chunk_size=1) as ex:
        assert len(ex.node_reports) == 3
        killed = threading.Event()
        seen = []

        def progress(res):
            seen.append(res.tag)
            if len(seen) == 3 and not killed.is_set():
                killed.set()
                cluster.remove_node(extra, allow_graceful=False)

        results = ex.run_many(jobs, progress=progress)
        assert killed.is_set() and ex.requeued >= 1
        assert [(r.tag, r.status, r.stdout) for r in results] == [(str(i), Status.PASS, f"{i}\n") for i in range(24)]
        assert sorted(seen, key=int) == [str(i) for i in range(24)]
        assert len(ex.nodes) == 2
