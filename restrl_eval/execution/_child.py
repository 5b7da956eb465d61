"""What a forked child does before and while running untrusted code (stdlib only).

Runs INSIDE the sandbox, concatenated into the zygote's source after ``_seccomp.py``.
Order matters: new session first (so the whole group can be killed), then file
descriptors (nothing of the zygote's survives), then working directory and rlimits,
and the seccomp filter last, because setting limits needs syscalls the filter may deny.
"""
import builtins
import contextlib
import io
import json
import os
import resource
import signal
import struct
import sys
import time
import traceback

MB = 1024 * 1024
WATCH_GRACE_S = 0.5  # how long a call may run on after its alarm fired before the zygote kills it


def make_watch(watch, grace=WATCH_GRACE_S):
    """``(fired, clear)``: the sandbox side of the per-call watchdog (see ``Zygote``).

    ``watch`` is a shared anonymous mapping the zygote reads; slot 0 holds an absolute
    ``time.monotonic()`` deadline, 0.0 when no call is past its limit. ``fired()`` is called
    from a per-call alarm handler (trusted driver code) just before it raises: from then on
    the call has ``grace`` seconds to end, else the zygote kills the job from outside, so a
    program that swallows the timer (``except BaseException: pass`` in a loop) cannot hold
    a worker for the whole job's budget. ``clear()`` ends the watch when the call ends. A
    call stuck in C code never runs the handler, so it keeps the in-process semantics
    (its timeout is raised when the C call returns). One aligned 8-byte store each: cheap
    enough for every call of a benchmark driver."""
    if watch is None:
        def fired():
            pass

        return fired, fired
    pack, monotonic = struct.Struct("d").pack_into, time.monotonic

    def fired():
        pack(watch, 0, monotonic() + grace)

    def clear():
        pack(watch, 0, 0.0)

    return fired, clear


class _Restrl:
    """The ``restrl`` global a driver sees: the job's program, payload and a report channel."""

    def __init__(self, program, payload, channel_fd, watch=None):
        self.program = program
        self.payload = payload
        self._fd = channel_fd
        self._watch = watch
        self._fired, self._clear = make_watch(watch)

    def watchdog(self, grace=WATCH_GRACE_S):
        """``(fired, clear)`` for a driver's own per-call timer (see ``make_watch``)."""
        return make_watch(self._watch, grace)

    def emit(self, **fields):
        data = (json.dumps(fields, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]

    @contextlib.contextmanager
    def time_limit(self, seconds, watch=True):
        """Raise ``TimeoutError`` in the block after ``seconds``. With ``watch`` (the
        default) a block that swallows the error and runs on past the grace is killed from
        outside (``make_watch``); ``watch=False`` keeps the in-process semantics alone."""
        fired, clear = (self._fired, self._clear) if watch else (None, None)

        def _on_alarm(signum, frame):
            if fired is not None:
                fired()
            raise TimeoutError("time limit of %.3fs exceeded" % seconds)

        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            if clear is not None:
                clear()

    def run_program(self, namespace=None, filename="<program>"):
        if namespace is None:
            namespace = {"__name__": "__main__", "__builtins__": builtins}
        exec(compile(self.program, filename, "exec"), namespace)
        return namespace


def _set_limits(limits, profile):
    def setl(which, soft, hard=None):
        hard = soft if hard is None else hard
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass

    cpu = int(limits["cpu_s"])
    setl(resource.RLIMIT_CPU, cpu, cpu + 1)
    setl(resource.RLIMIT_AS, int(limits["memory_mb"]) * MB)
    setl(resource.RLIMIT_DATA, int(limits["memory_mb"]) * MB)
    setl(resource.RLIMIT_FSIZE, int(limits["file_size_mb"]) * MB)
    setl(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    setl(resource.RLIMIT_STACK, int(limits["stack_mb"]) * MB)
    setl(resource.RLIMIT_CORE, 0)
    if profile == "permissive":
        setl(resource.RLIMIT_NPROC, int(limits["processes"]))


def child_main(job, fds, workdir, filters, drop_uid=None, max_fd=1024, watch=None):
    """Never returns. ``fds``: (stdin_r, stdout_w, stderr_w, channel_w) for fds 0..3.
    ``filters``: profile -> PreparedFilter, or None when seccomp is unavailable.
    ``max_fd``: the zygote's open-file soft limit, above which no fd can be open.
    ``watch``: the zygote's shared watchdog slot (``make_watch``), or None."""
    code = 70
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(4, max_fd)
        if drop_uid is not None:  # fallback mode as root: become an unprivileged user
            os.setgroups([])
            os.setresgid(drop_uid, drop_uid, drop_uid)
            os.setresuid(drop_uid, drop_uid, drop_uid)
        os.chdir(workdir)
        os.environ["HOME"] = workdir
        os.environ["TMPDIR"] = workdir
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="replace")
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace", write_through=False)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True)
        _set_limits(job["limits"], job["profile"])
        _libc.prctl(4, 1, 0, 0, 0)  # noqa: F821  PR_SET_DUMPABLE=1: /proc/self usable again
        if filters is not None:
            filters[job["profile"]].install(os.getpid())
        rt = _Restrl(job["program"], job.get("payload"), 3, watch)
        code = _run(job, rt)
    except BaseException:
        try:
            os.write(2, traceback.format_exc().encode()[-4000:])
        except Exception:
            pass
        code = 71
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(code)


def _run(job, rt):
    """Run the driver (or the program as __main__). Returns the exit code."""
    driver = job.get("driver")
    try:
        if driver is None:
            rt.run_program()
            _join_threads()  # a script ends when its last non-daemon thread does
        else:
            code = job.get("driver_code") or compile(driver, "<driver>", "exec")
            exec(code, {"__name__": "__restrl_driver__", "restrl": rt, "__builtins__": builtins})
    except SystemExit as exc:
        status = exc.code
        if driver is None and (status is None or status == 0):
            _finish(rt)
            return 0
        rt.emit(kind="error", type="SystemExit", message=repr(status)[:500])
        return status if isinstance(status, int) and 0 < status < 256 else 1
    except BaseException as exc:
        tb = traceback.format_exc()
        try:
            rt.emit(kind="error", type=type(exc).__name__, message=str(exc)[:1000], traceback=tb[-3000:])
        except BaseException:
            pass
        sys.stderr.write(tb[-4000:])
        return 1
    _finish(rt)
    return 0


def _join_threads():
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()


def _finish(rt):
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    rt.emit(kind="done")
