"""The executor across machines: one sandboxed zygote pool per Ray node, one batch API.

Why this shape: RL rewards and large sweeps judge more programs per second than one
machine can. Each node of a Ray cluster runs an ordinary local ``Executor`` (bubblewrap,
seccomp, zygotes: the same sandbox, built on that node) inside a Ray actor pinned to the
node; ``RayExecutor.run_many`` cuts the batch into chunks, keeps every pool busy, and
returns one ``ExecResult`` per job in input order, exactly as the local executor does.
A node (or an actor) that dies mid-batch loses no verdict: its unfinished chunks are
queued again and run on the surviving pools; nodes that join later get a pool at the
next batch. Jobs cross the wire as the same frozen records (``Job`` / ``ExecResult``),
so callers cannot tell the two executors apart except by speed.

``make_executor(spec, workers)`` is the one switch the commands use: ``local`` (the
default), ``auto`` (Ray when this machine belongs to a running cluster, else local),
``ray`` (the cluster this machine belongs to), ``ray:HOST:PORT`` (a cluster's GCS
address) or ``ray://HOST:PORT`` (Ray Client, passed to ``ray.init`` as is).
"""
from __future__ import annotations

import collections
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from restrl_eval.execution.executor import Executor, SandboxUnavailable
from restrl_eval.execution.sandbox import SandboxReport
from restrl_eval.execution.types import ExecResult, Job, Status
from restrl_eval.execution.worker import encode_job

log = logging.getLogger(__name__)

__all__ = ["RayExecutor", "make_executor", "parse_executor_spec"]

_INFLIGHT_PER_POOL = 2  # chunks queued on a pool: one running, one ready, so no pool idles
_MAX_LOSSES = 3  # a chunk whose pool dies this often is reported (SANDBOX_ERROR), never retried forever
_REFRESH_S = 5.0  # look for nodes that joined at most this often (ray.nodes() is a GCS call)


def parse_executor_spec(spec: str | None) -> tuple[str, str | None]:
    """``(kind, address)`` with kind ``local``, ``auto`` or ``ray``. One-line ValueError
    naming the spec when it is none of the documented forms."""
    s = (spec or "local").strip()
    if s in ("local", "auto"):
        return s, None
    if s == "ray":
        return "ray", os.environ.get("RAY_ADDRESS") or "auto"
    if s.startswith("ray://"):
        if len(s) <= len("ray://"):
            raise ValueError(f"--executor {spec!r}: expected ray://HOST:PORT")
        return "ray", s
    if s.startswith("ray:") and len(s) > 4:
        return "ray", s[4:]
    raise ValueError(f"--executor {spec!r}: expected local, auto, ray, ray:HOST:PORT or ray://HOST:PORT")


def _ray_cluster_running() -> bool:
    """True when ``ray.init(address='auto')`` would find a cluster (RAY_ADDRESS, or a
    ``ray start`` on this machine). Never starts one."""
    if os.environ.get("RAY_ADDRESS"):
        return True
    try:
        from ray._private.services import canonicalize_bootstrap_address

        return bool(canonicalize_bootstrap_address("auto"))
    except Exception:  # ray missing, or no cluster: both mean "run locally"
        return False


def make_executor(spec: str | None, workers: int | None = None, *, preload: Sequence[str] = (),
                  sandbox: str = "auto", **executor_options: Any) -> Any:
    """A local ``Executor`` or a ``RayExecutor``, both with ``run_many``/``run``/``close``,
    ``report`` and ``n_workers``. ``workers`` is per machine (per Ray node for Ray;
    default: each node's CPU count)."""
    kind, address = parse_executor_spec(spec)
    if kind == "auto":
        kind, address = ("ray", os.environ.get("RAY_ADDRESS") or "auto") if _ray_cluster_running() else ("local", None)
    if kind == "local":
        return Executor(workers=workers, preload=preload, sandbox=sandbox, **executor_options)
    return RayExecutor(address, workers_per_node=workers, preload=preload, sandbox=sandbox, **executor_options)


class _Pool:
    """Actor body: a local sandboxed executor on one node (wrapped by ``ray.remote`` lazily,
    so importing this module does not need ray)."""

    def __init__(self, workers: int | None, options: dict[str, Any]) -> None:
        import ray

        self.node_id = ray.get_runtime_context().get_node_id()
        self.executor = Executor(workers=workers, **options)

    def describe(self) -> tuple[str, int, SandboxReport]:
        return self.node_id, self.executor.n_workers, self.executor.report

    def run_many(self, jobs: list[Job]) -> list[ExecResult]:
        return self.executor.run_many(jobs)

    def close(self) -> None:
        self.executor.close()


class RayExecutor:
    """The ``Executor`` interface over a Ray cluster: one sandboxed pool per alive node.

    ``address``: what ``ray.init`` gets (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``);
    ignored when ray is already initialised in this process. ``workers_per_node``: sandbox
    workers per node (default: the node's CPUs as Ray sees them). Other keyword options go
    to each node's ``Executor`` (``preload``, ``sandbox``, ``tmpfs_mb`` ...).
    """

    def __init__(self, address: str | None = "auto", *, workers_per_node: int | None = None,
                 chunk_size: int | None = None, **executor_options: Any) -> None:
        try:
            import ray
        except ImportError:
            raise SandboxUnavailable("the ray executor needs ray: pip install 'restrl[ray]'") from None
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            _check_reachable(address)
            try:
                ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
            except ConnectionError as exc:  # address "auto" with no cluster running
                raise SandboxUnavailable(f"no Ray cluster at {address!r}: {str(exc).splitlines()[0]}") from None
        self._workers = workers_per_node
        self._chunk = chunk_size
        self._options = executor_options
        self._actor_cls = ray.remote(_Pool)
        self._pools: dict[str, Any] = {}  # node id -> actor handle
        self._sizes: dict[str, int] = {}
        self.node_reports: dict[str, SandboxReport] = {}
        self.requeued = 0  # chunks run again after their pool was lost (all batches)
        self._closed = False
        self._lock = threading.RLock()  # run_many may be called from many threads at once
        self._refreshed = 0.0
        self._place_pools()
        if not self._pools:
            raise SandboxUnavailable("no Ray node could start a sandboxed executor pool")

    # -- pools -----------------------------------------------------------------------------
    def _alive_nodes(self) -> list[dict[str, Any]]:
        return [n for n in self._ray.nodes() if n.get("Alive")]

    def _place_pools(self, *, force: bool = True) -> None:
        """A pool on every alive node without one (nodes that joined since the last batch);
        unless ``force``, at most every ``_REFRESH_S`` seconds."""
        with self._lock:
            if force or time.monotonic() - self._refreshed >= _REFRESH_S:
                self._refreshed = time.monotonic()
                self._start_pools()

    def _start_pools(self) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        new = {}
        for node in self._alive_nodes():
            nid = node["NodeID"]
            if nid in self._pools:
                continue
            workers = self._workers or max(1, int(node.get("Resources", {}).get("CPU", 1)))
            actor: Any = self._actor_cls.options(  # no Ray CPUs reserved; never restarted (lost = gone)
                num_cpus=0, max_restarts=0, max_concurrency=_INFLIGHT_PER_POOL + 2,
                scheduling_strategy=NodeAffinitySchedulingStrategy(nid, soft=False)).remote(workers, self._options)
            new[nid] = (actor, actor.describe.remote())
        for nid, (actor, ref) in new.items():
            try:
                _node, size, report = self._ray.get(ref, timeout=300)
            except Exception as exc:  # a node that cannot host a pool is skipped, loudly
                log.warning("restrl ray executor: no pool on node %s: %s", nid[:12], exc)
                self._kill(actor)
                continue
            self._pools[nid], self._sizes[nid], self.node_reports[nid] = actor, size, report

    def _kill(self, actor: Any) -> None:
        try:
            self._ray.kill(actor, no_restart=True)
        except Exception:
            pass

    def _drop(self, nid: str, actor: Any) -> None:
        """Forget the pool ``actor`` of node ``nid`` (not a newer pool placed there since)."""
        with self._lock:
            if self._pools.get(nid) is not actor:
                return
            del self._pools[nid]
            self._sizes.pop(nid, None)
        self._kill(actor)

    @property
    def nodes(self) -> dict[str, int]:
        """Sandbox workers per node id, for the pools alive now."""
        return dict(self._sizes)

    @property
    def n_workers(self) -> int:
        return sum(self._sizes.values()) or 1

    @property
    def report(self) -> SandboxReport:
        """The weakest node's report (a run records the isolation it can vouch for)."""
        reports = list(self.node_reports.values())
        return max(reports, key=_weakness) if reports else SandboxReport(
            mode="process", bwrap=None, user_namespace=False, unprivileged_uid=False, cap_drop=False,
            network_isolated=False, readonly_fs=False, seccomp=False, pids_limit="none")

    # -- running ---------------------------------------------------------------------------
    def run(self, job: Job) -> ExecResult:
        return self.run_many([job])[0]

    def run_many(self, jobs: Iterable[Job], progress: Callable[[ExecResult], None] | None = None) -> list[ExecResult]:
        """One result per job, in input order; ``progress`` is called as each job's result
        arrives. Chunks on a node that dies are run again on the other nodes."""
        if self._closed:
            raise RuntimeError("executor is closed")
        jobs = list(jobs)
        for job in jobs:  # a caller's bad payload fails here, before anything is shipped
            encode_job(job)
        results: list[ExecResult | None] = [None] * len(jobs)
        if not jobs:
            return []
        self._place_pools(force=False)
        size = self._chunk or max(1, min(max(self._sizes.values(), default=1),
                                         math.ceil(len(jobs) / (2 * max(1, len(self._pools))))))
        todo = collections.deque(range(i, min(i + size, len(jobs))) for i in range(0, len(jobs), size))
        inflight: dict[Any, tuple[str, Any, range]] = {}
        losses: collections.Counter[int] = collections.Counter()  # chunk start -> pools lost running it
        while todo or inflight:
            self._dispatch(jobs, todo, inflight)
            ready, _ = self._ray.wait(list(inflight), num_returns=1)
            nid, actor, span = inflight.pop(ready[0])
            try:
                chunk = self._ray.get(ready[0])
            except self._ray.exceptions.RayTaskError as exc:  # the pool itself raised: a bug, not a lost node
                raise RuntimeError(f"ray executor pool on node {nid[:12]} failed: {exc}") from exc
            except self._ray.exceptions.RayError as exc:  # node or actor lost: run the chunk elsewhere
                log.warning("restrl ray executor: pool on node %s lost (%s); re-running %d job(s) elsewhere",
                            nid[:12], type(exc).__name__, len(span))
                self._drop(nid, actor)
                losses[span.start] += 1
                self.requeued += 1
                if losses[span.start] < _MAX_LOSSES:
                    todo.appendleft(span)
                    continue
                chunk = [ExecResult(Status.SANDBOX_ERROR, detail=f"{_MAX_LOSSES} Ray pools were lost running this job",
                                    tag=jobs[i].tag) for i in span]
            for i, res in zip(span, chunk):
                results[i] = res
                if progress is not None:
                    progress(res)
        return results  # type: ignore[return-value]

    def _dispatch(self, jobs: list[Job], todo: collections.deque, inflight: dict[Any, tuple[str, Any, range]]) -> None:
        """Give each pool up to ``_INFLIGHT_PER_POOL`` chunks; with no pool left, place new
        ones on the alive nodes, and fail only when there is none."""
        if not self._pools and todo:
            self._place_pools()
            if not self._pools and not inflight:
                raise SandboxUnavailable("every Ray node running a sandbox pool is gone")
        load = collections.Counter(nid for nid, _, _ in inflight.values())
        with self._lock:
            pools = dict(self._pools)
        while todo:
            free = [nid for nid in pools if load[nid] < _INFLIGHT_PER_POOL]
            if not free:
                return
            nid = min(free, key=lambda n: load[n])
            span = todo.popleft()
            ref = pools[nid].run_many.remote([jobs[i] for i in span])
            inflight[ref] = (nid, pools[nid], span)
            load[nid] += 1

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        refs = []
        for actor in self._pools.values():
            try:
                refs.append(actor.close.remote())
            except Exception:
                pass
        try:
            self._ray.wait(refs, num_returns=len(refs), timeout=30)
        except Exception:
            pass
        for nid, actor in list(self._pools.items()):
            self._drop(nid, actor)
        if self._owns_ray:
            self._ray.shutdown()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _check_reachable(address: str | None) -> None:
    """Fail in seconds, with one line, on a HOST:PORT nobody answers (``ray.init`` would
    keep retrying for minutes)."""
    import socket

    if not address or address == "auto" or address.startswith("local"):
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise SandboxUnavailable(f"Ray address {address!r}: expected HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise SandboxUnavailable(f"no Ray cluster at {address!r}: {exc}") from None


def _weakness(report: SandboxReport) -> int:
    level = report.level
    if level == "full":
        return 0
    return (100 if level.startswith("process") else 0) + len(level.split(":", 1)[-1].split(","))
