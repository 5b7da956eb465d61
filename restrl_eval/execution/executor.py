"""The executor: a pool of sandboxed zygote workers with a batch API.

Why this shape: evaluation, training rewards and search all submit many small jobs.
``run_many`` fans them out over one worker per core (each worker runs one job at a
time, so the pid-namespace sweep after each job cannot touch a neighbour), and always
returns exactly one ``ExecResult`` per job, in order: a worker that dies is replaced
and its job retried once; a job that kills two workers is reported, never lost.
Verdict status is decided here, in the trusted process, from the zygote's raw report.
"""
from __future__ import annotations

import concurrent.futures as cf
import itertools
import json
import logging
import os
import queue
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from restrl_eval.execution.sandbox import SANDBOX_UID, SandboxReport, find_bwrap, python_dirs
from restrl_eval.execution.types import ExecResult, Job, Status, TestOutcome
from restrl_eval.execution.worker import Worker, WorkerDied, encode_job

log = logging.getLogger(__name__)

_TEST_STATUSES = {"pass", "fail", "error", "timeout"}
_WORKER_IDS = itertools.count(1)  # process-wide: worker (and cgroup) names never repeat
_OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")


class SandboxUnavailable(RuntimeError):
    """The requested isolation level cannot be provided on this machine."""


class Executor:
    """Run untrusted programs in sandboxed workers.

    ``sandbox``: ``auto`` (bwrap when it works, else a loud fallback), ``bwrap`` (refuse
    to run without it) or ``process`` (no namespaces; rlimits + seccomp only).
    ``preload``: modules imported once in every zygote so children get them for free.
    """

    def __init__(self, workers: int | None = None, *, sandbox: str = "auto", preload: Sequence[str] = (),
                 tmpfs_mb: int = 512, max_pids: int = 256, seccomp: bool = True, pids_cgroup: bool = True) -> None:
        if sandbox not in ("auto", "bwrap", "process"):
            raise ValueError(f"sandbox must be auto, bwrap or process, not {sandbox!r}")
        self.n_workers = max(1, workers or os.cpu_count() or 1)
        self.preload = tuple(preload)
        self._seccomp_wanted = seccomp
        self._tmpfs_mb, self._max_pids, self._use_cgroup = tmpfs_mb, max_pids, pids_cgroup
        self._bwrap = find_bwrap() if sandbox in ("auto", "bwrap") else None
        warnings: list[str] = []
        if sandbox == "bwrap" and not self._bwrap:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed or cannot create namespaces; "
                                     "install it (apt-get install bubblewrap) or pass sandbox='process'")
        if sandbox == "auto" and not self._bwrap:
            warnings.append("bubblewrap unavailable: falling back to a plain subprocess worker "
                            "(no namespaces, no read-only filesystem, no network isolation)")
        self._etc = self._make_etc() if self._bwrap else None
        self._drop_uid = self._fallback_uid() if not self._bwrap else None
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._all: list[Worker] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._closed = False
        # bwrap --die-with-parent ties each worker to the THREAD that started it (PDEATHSIG),
        # so workers are only ever started from these long-lived threads, never from a
        # short-lived one (a run_many pool thread, say): its exit would kill the worker.
        self._spawner = cf.ThreadPoolExecutor(self.n_workers, thread_name_prefix="restrl-spawn")
        self._threads = cf.ThreadPoolExecutor(self.n_workers, thread_name_prefix="restrl-run")
        first = self._spawn()
        self._idle.put(first)
        info = first.info
        cg = first.cgroup is not None
        self.report = SandboxReport(
            mode="bwrap" if self._bwrap else "process", bwrap=self._bwrap,
            user_namespace=bool(self._bwrap), unprivileged_uid=info.get("euid", 0) != 0 or self._drop_uid is not None,
            cap_drop=bool(self._bwrap), network_isolated=bool(self._bwrap), readonly_fs=bool(self._bwrap),
            seccomp=bool(info.get("seccomp")),
            pids_limit="cgroup" if cg else ("seccomp-only" if info.get("seccomp") else "none"),
            preloaded=tuple(info.get("preloaded", ())), warnings=tuple(warnings),
        )
        if self.report.level != "full":
            for w in warnings:
                log.warning("restrl sandbox: %s", w)
            log.warning("restrl sandbox level: %s", self.report.level)
        for started in [self._spawner.submit(self._start_worker) for _ in range(self.n_workers - 1)]:
            self._idle.put(started.result())

    # -- setup -------------------------------------------------------------------------------
    @staticmethod
    def _make_etc() -> str:
        """A private /etc: a synthetic passwd/group naming only the sandbox user, plus the
        host's harmless shared data (time zone, fonts, certificates) by reference."""
        d = tempfile.mkdtemp(prefix="restrl-etc-")
        os.chmod(d, 0o755)
        Path(d, "passwd").write_text(f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:/tmp/w:/bin/sh\n")
        Path(d, "group").write_text(f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\n")
        Path(d, "hostname").write_text("sandbox\n")
        Path(d, "hosts").write_text("127.0.0.1 localhost sandbox\n::1 localhost\n")
        for name in ("localtime", "fonts", "ssl", "mime.types", "timezone"):
            src = Path("/etc") / name
            if src.exists():
                os.symlink(os.path.realpath(src), Path(d, name))
        for f in Path(d).iterdir():
            if not f.is_symlink():
                f.chmod(0o644)
        return d

    @staticmethod
    def _fallback_uid() -> int | None:
        """Without bwrap, a root harness drops children to uid 65534 when the interpreter's
        directories stay readable for that user (else it warns and keeps root)."""
        if os.geteuid() != 0:
            return None
        for d in python_dirs():
            p = Path(d)
            for anc in [p, *p.parents]:
                if not anc.stat().st_mode & stat.S_IXOTH:
                    log.warning("restrl sandbox: %s is not traversable by uid %d; children keep running as root",
                                anc, SANDBOX_UID)
                    return None
        return SANDBOX_UID

    def _spawn(self) -> Worker:
        return self._spawner.submit(self._start_worker).result()

    def _start_worker(self) -> Worker:
        name = f"restrl-{os.getpid()}-{next(_WORKER_IDS)}"
        w = Worker(name, bwrap=self._bwrap, seccomp=self._seccomp_wanted, preload=self.preload,
                   tmpfs_mb=self._tmpfs_mb, max_pids=self._max_pids, etc_dir=self._etc,
                   use_cgroup=self._use_cgroup, drop_uid=self._drop_uid)
        with self._lock:
            self._all.append(w)
        return w

    # -- running -----------------------------------------------------------------------------
    def run(self, job: Job) -> ExecResult:
        return self.run_many([job])[0]

    def run_many(self, jobs: Iterable[Job], progress: Callable[[ExecResult], None] | None = None) -> list[ExecResult]:
        """One result per job, in input order. ``progress`` is called as each job finishes."""
        if self._closed:
            raise RuntimeError("executor is closed")
        jobs = list(jobs)
        bodies = [encode_job(job) for job in jobs]  # a caller's bad payload fails here, before any run
        results: list[ExecResult | None] = [None] * len(jobs)
        futs = {self._threads.submit(self._run_one, job, body): i for i, (job, body) in enumerate(zip(jobs, bodies))}
        for fut in cf.as_completed(futs):
            res = fut.result()
            results[futs[fut]] = res
            if progress is not None:
                progress(res)
        return results  # type: ignore[return-value]

    def _run_one(self, job: Job, body: bytes) -> ExecResult:
        deaths: list[str] = []
        for _attempt in range(2):
            worker = self._idle.get()
            try:
                report = worker.run(job, self._next_id(), body)
            except WorkerDied as exc:
                deaths.append(str(exc))
                worker.kill()
                self._idle.put(self._respawn())
                continue
            except Exception as exc:  # harness-side bug: report, keep the pool usable
                worker.kill()
                self._idle.put(self._respawn())
                return ExecResult(Status.SANDBOX_ERROR, detail=f"{type(exc).__name__}: {exc}",
                                  sandbox_level=self.report.level, tag=job.tag)
            self._idle.put(worker)
            return decide(job, report, self.report.level)
        return ExecResult(Status.KILLED, detail="the job brought down its worker twice: " + " | ".join(deaths)[:2000],
                          sandbox_level=self.report.level, tag=job.tag)

    def _respawn(self) -> Worker:
        for _ in range(3):
            try:
                return self._spawn()
            except WorkerDied as exc:
                log.error("cannot start a sandbox worker: %s", exc)
        raise SandboxUnavailable("sandbox workers keep failing to start")

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._threads.shutdown(wait=True)
        with self._lock:
            workers, self._all = self._all, []
        for w in workers:
            w.close()
        self._spawner.shutdown(wait=True)
        if self._etc:
            shutil.rmtree(self._etc, ignore_errors=True)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:  # best effort: never leave zygotes behind
        try:
            self.close()
        except Exception:
            pass


def _parse_messages(raw: str) -> list[dict[str, Any]]:
    out = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict):
            out.append(msg)
    return out


def _is_oom(job: Job, report: Mapping[str, Any], errors: list[dict[str, Any]]) -> bool:
    if any(e.get("type") == "MemoryError" for e in errors):
        return True
    tail = str(report.get("stderr", ""))[-600:]
    if any(m in tail for m in _OOM_MARKERS):
        return True
    sig = report.get("signal")
    rss = float(report.get("maxrss_kb") or 0) * 1024
    return sig in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) and \
        rss >= 0.9 * job.limits.memory_mb * 1024 * 1024


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return str(sig)


def decide(job: Job, report: Mapping[str, Any], level: str) -> ExecResult:
    """Turn the zygote's raw report into an ExecResult. Trusted side: validates types."""
    if report.get("sandbox_error"):
        return ExecResult(Status.SANDBOX_ERROR, detail=str(report["sandbox_error"])[:2000], sandbox_level=level, tag=job.tag)
    msgs = _parse_messages(str(report.get("messages", "")))
    tests = tuple(
        TestOutcome(str(m.get("name", i))[:500], m["status"] if m.get("status") in _TEST_STATUSES else "error",
                    str(m.get("detail", ""))[:2000])
        for i, m in enumerate(m for m in msgs if m.get("kind") == "test")
    )
    errors = [m for m in msgs if m.get("kind") == "error"]
    finished = any(m.get("kind") == "done" for m in msgs)
    sig = report.get("signal") if isinstance(report.get("signal"), int) else None
    code = report.get("exit_code") if isinstance(report.get("exit_code"), int) else None
    cpu = float(report.get("cpu_s") or 0.0)
    detail = ""
    if report.get("call_timed_out"):
        status, detail = Status.TIMEOUT, "a call ran on past its time limit (its timer was swallowed): killed"
    elif report.get("timed_out"):
        status, detail = Status.TIMEOUT, f"wall-clock limit {job.limits.timeout_s}s exceeded"
    elif sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= job.limits.effective_cpu_s() - 0.05):
        status, detail = Status.TIMEOUT, f"CPU limit {job.limits.effective_cpu_s()}s exceeded"
    elif not finished and _is_oom(job, report, errors):
        status, detail = Status.OOM, f"memory limit {job.limits.memory_mb} MB exceeded"
    elif sig is not None:
        status, detail = Status.KILLED, f"killed by signal {_signal_name(sig)}"
    elif not finished:
        status = Status.ERROR
        if errors:
            e = errors[-1]
            detail = f"{e.get('type', 'Error')}: {e.get('message', '')}"[:2000]
        else:
            detail = f"exited with code {code} before the driver finished"
    elif any(t.status != "pass" for t in tests):
        status = Status.FAIL
    else:
        status = Status.PASS
    if report.get("message_overflow"):
        detail = (detail + "; " if detail else "") + "driver messages truncated at the size cap"
    return ExecResult(
        status=status, tests=tests, exit_code=code, signal=sig,
        stdout=str(report.get("stdout", "")), stderr=str(report.get("stderr", "")),
        wall_s=float(report.get("wall_s") or 0.0), cpu_s=cpu,
        peak_memory_mb=float(report.get("maxrss_kb") or 0) / 1024.0,
        messages=tuple(msgs), detail=detail, sandbox_level=level, tag=job.tag, finished=finished,
    )
