"""Executor speed: restrl's zygote pool against the ways people run programs today.

Prints, from one run on one machine:
- programs/second on a mixed batch (trivial, numpy-importing, failing, timing-out) for
  restrl's executor and for the naive approach (a fresh ``python`` subprocess per
  program with rlimits), and their ratio;
- per-program overhead in ms on trivial programs, one at a time, for: the bare
  fork-per-program floor (a warm interpreter forks, runs the program unsandboxed,
  collects stdout: how evalplus-style harnesses run code), restrl with the full sandbox,
  and a fresh sandboxed ``bwrap ... python`` per program; and the ratios the executor
  issue asks for.

Usage: python benchmarks/bench_executor.py [--workers N] [--trivial 300] [--numpy 60]
       [--executor ray [--nodes 2 | --address HOST:PORT]]
Nothing here is asserted: figures are printed for a human (or CI log) to read.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

from restrl_eval.execution import Executor, Job, Limits
from restrl_eval.execution.sandbox import bwrap_command, find_bwrap, python_dirs

TRIVIAL = "x = sum(range(10))\nprint(x)\n"
NUMPY = "import numpy as np\nprint(int(np.arange(100).sum()))\n"
FAILING = "def f(x):\n    return x + 1\nassert f(1) == 3, 'wrong'\n"
TIMEOUT = "while True:\n    pass\n"


def batch(n_trivial: int, n_numpy: int, n_fail: int, n_timeout: int) -> list[tuple[str, float]]:
    progs = [(TRIVIAL, 5.0)] * n_trivial + [(NUMPY, 10.0)] * n_numpy + [(FAILING, 5.0)] * n_fail
    return progs + [(TIMEOUT, 1.0)] * n_timeout


def run_restrl(progs: list[tuple[str, float]], workers: int, preload: tuple[str, ...]) -> tuple[float, list[str]]:
    with Executor(workers=workers, preload=preload) as ex:
        ex.run_many([Job(TRIVIAL)] * workers * 2)  # warm
        t = time.perf_counter()
        res = ex.run_many([Job(p, limits=Limits(timeout_s=to)) for p, to in progs])
        return time.perf_counter() - t, [r.status.value for r in res]


def _naive_one(prog: str, timeout: float) -> str:
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        resource.setrlimit(resource.RLIMIT_CPU, (int(timeout) + 1, int(timeout) + 2))
        os.setsid()

    try:
        r = subprocess.run([sys.executable, "-c", prog], capture_output=True, timeout=timeout, preexec_fn=limits)
        return "pass" if r.returncode == 0 else "fail"
    except subprocess.TimeoutExpired:
        return "timeout"


def run_naive(progs: list[tuple[str, float]], workers: int) -> tuple[float, list[str]]:
    from concurrent.futures import ThreadPoolExecutor

    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        out = list(pool.map(lambda p: _naive_one(*p), progs))
    return time.perf_counter() - t, out


def fork_floor(prog: str, n: int) -> float:
    """Bare fork per program, unsandboxed: the floor any fork-based harness pays."""
    code = compile(prog, "<p>", "exec")
    t = time.perf_counter()
    for _ in range(n):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.dup2(w, 1)
            try:
                exec(code, {"__name__": "__main__"})
                sys.stdout.flush()
            finally:
                os._exit(0)
        os.close(w)
        while os.read(r, 65536):
            pass
        os.close(r)
        os.waitpid(pid, 0)
    return (time.perf_counter() - t) / n


def restrl_sequential(prog: str, n: int, preload: tuple[str, ...]) -> float:
    with Executor(workers=1, preload=preload) as ex:
        for _ in range(20):
            ex.run(Job(prog))
        jobs = [Job(prog)] * n
        t = time.perf_counter()
        ex.run_many(jobs)
        return (time.perf_counter() - t) / n


def fresh_bwrap(prog: str, n: int) -> float | None:
    bwrap = find_bwrap()
    if not bwrap:
        return None
    fds, binds = [], {}
    for d in python_dirs():
        fd = os.open(d, os.O_PATH | os.O_DIRECTORY)
        fds.append(fd)
        binds[d] = fd
    cmd = bwrap_command(bwrap, 64, binds) + [sys.executable, "-I", "-c", prog]
    t = time.perf_counter()
    for _ in range(n):
        subprocess.run(cmd, capture_output=True, pass_fds=fds, check=True)
    return (time.perf_counter() - t) / n


def run_ray(progs: list[tuple[str, float]], workers: int, nodes: int, address: str | None) -> None:
    """``--executor ray``: the same mixed batch on the local pool and on a Ray executor
    (a local ``nodes``-node cluster on this machine sharing ``workers`` sandbox workers, or
    the cluster at ``address``), so the figure is Ray's overhead over the local pool."""
    import ray
    from ray.cluster_utils import Cluster

    from restrl_eval.execution.ray_pool import RayExecutor

    per_node = max(1, workers // nodes)
    cluster = None
    if address is None:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": per_node, "include_dashboard": False})
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=per_node)
        address = cluster.address
    ray.init(address=address, log_to_driver=False, include_dashboard=False)
    try:
        t_l, st_l = run_restrl(progs, per_node * nodes, ("numpy",))
        with RayExecutor(workers_per_node=None if cluster is None else per_node, preload=("numpy",)) as ex:
            ex.run_many([Job(TRIVIAL)] * ex.n_workers * 2)  # warm
            t = time.perf_counter()
            st_r = [r.status.value for r in ex.run_many([Job(p, limits=Limits(timeout_s=to)) for p, to in progs])]
            t_r = time.perf_counter() - t
            where = f"{len(ex.nodes)} Ray nodes x {per_node} worker(s)" if cluster else f"cluster {address}: {ex.nodes}"
        print(f"  local pool ({per_node * nodes} workers):          {t_l:7.2f} s  {len(progs) / t_l:8.1f} programs/s")
        print(f"  ray executor ({where}): {t_r:7.2f} s  {len(progs) / t_r:8.1f} programs/s")
        print(f"  ray / local throughput: {t_l / t_r:.2f}x; same statuses: {sum(a == b for a, b in zip(st_l, st_r))}"
              f"/{len(progs)}")
    finally:
        ray.shutdown()
        if cluster is not None:
            cluster.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executor", choices=("local", "ray"), default="local",
                    help="ray: compare the local pool with a Ray executor (a local --nodes cluster or --address)")
    ap.add_argument("--nodes", type=int, default=2, help="--executor ray: nodes of the local Ray cluster")
    ap.add_argument("--address", default=None, help="--executor ray: an existing cluster's address instead")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--trivial", type=int, default=300)
    ap.add_argument("--numpy", type=int, default=60)
    ap.add_argument("--failing", type=int, default=100)
    ap.add_argument("--timeouts", type=int, default=4)
    ap.add_argument("--seq", type=int, default=300, help="programs for the per-program overhead figures")
    args = ap.parse_args()
    progs = batch(args.trivial, args.numpy, args.failing, args.timeouts)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; workers={args.workers}")
    print(f"mixed batch: {args.trivial} trivial, {args.numpy} numpy-importing, {args.failing} failing, "
          f"{args.timeouts} timing-out (1 s)")
    if args.executor == "ray":
        run_ray(progs, args.workers, args.nodes, args.address)
        return
    t_r, st_r = run_restrl(progs, args.workers, ("numpy",))
    t_n, st_n = run_naive(progs, args.workers)
    print(f"  restrl executor (full sandbox, numpy preloaded): {t_r:7.2f} s  {len(progs) / t_r:8.1f} programs/s")
    print(f"  naive fresh python per program (rlimits only):   {t_n:7.2f} s  {len(progs) / t_n:8.1f} programs/s")
    print(f"  speed-up restrl / naive: {t_n / t_r:.2f}x")
    agree = sum(1 for a, b in zip(st_r, st_n) if (a == "pass") == (b == "pass"))
    print(f"  pass/non-pass agreement between the two: {agree}/{len(progs)}")
    print(f"\nper-program cost, trivial program, one at a time ({args.seq} programs):")
    floor = fork_floor(TRIVIAL, args.seq)
    seq = restrl_sequential(TRIVIAL, args.seq, ())
    fresh = fresh_bwrap(TRIVIAL, max(20, args.seq // 10))
    print(f"  bare fork floor (unsandboxed):        {floor * 1e3:7.2f} ms")
    print(f"  restrl executor, full sandbox:        {seq * 1e3:7.2f} ms   ratio to floor: {seq / floor:.2f}x (goal <= 2x)")
    if fresh is not None:
        print(f"  fresh bwrap + python per program:     {fresh * 1e3:7.2f} ms   restrl is {fresh / seq:.1f}x faster (goal >= 3x)")
    else:
        print("  fresh bwrap + python per program:     n/a (bwrap unavailable)")


if __name__ == "__main__":
    main()
