"""The long-lived worker inside the sandbox: fork one child per job (stdlib only).

Why a zygote: a fresh ``python`` (plus bwrap) per program costs ~10-40 ms and a
numpy import ~100 ms more; forking an already-warm interpreter costs ~1-2 ms. The
zygote reads length-prefixed JSON frames from the harness, forks a child per job,
enforces the wall-clock limit from outside the child (group kill, then a sweep of
every other process in the sandbox's pid namespace so no orphan survives), and the
per-call watchdog (a call whose alarm fired but that did not end within the grace, i.e. a
program that swallowed its timer, is killed the same way: ``_child.make_watch``), collects
capped output, and answers with a plain JSON report. It never interprets the
program's messages: the harness does, in the trusted process.
"""
import json
import mmap
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time

_HDR = struct.Struct(">I")
_WATCH = struct.Struct("d")
_WATCH_TICK_S = 0.1  # how often the zygote looks at the watchdog slot while a job runs


def _read_exact(fd, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_frame(fd):
    hdr = _read_exact(fd, 4)
    if hdr is None:
        return None
    body = _read_exact(fd, _HDR.unpack(hdr)[0])
    return None if body is None else json.loads(body)


def write_frame(fd, obj):
    body = json.dumps(obj, separators=(",", ":")).encode()
    data = memoryview(_HDR.pack(len(body)) + body)
    while data:
        data = data[os.write(fd, data):]


class _Capture:
    """Keeps the head and the tail of a stream, counts the rest."""

    def __init__(self, limit):
        self.limit, self.head, self.tail, self.total = limit, bytearray(), bytearray(), 0

    def add(self, data):
        self.total += len(data)
        room = self.limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.limit:
                del self.tail[: len(self.tail) - self.limit]

    def text(self):
        if not self.tail:
            return self.head.decode("utf-8", "replace")
        skipped = self.total - len(self.head) - len(self.tail)
        mid = "\n...[%d bytes skipped]...\n" % skipped if skipped else ""
        return self.head.decode("utf-8", "replace") + mid + self.tail.decode("utf-8", "replace")


class _Messages:
    """The driver's report channel: kept whole up to a cap; after the first chunk that
    does not fit, nothing more is kept (a later chunk would splice a line)."""

    def __init__(self, limit):
        self.limit, self.data, self.overflow = limit, bytearray(), False

    def add(self, data):
        if self.overflow or len(self.data) + len(data) > self.limit:
            self.overflow = True
        else:
            self.data += data


def _safe_name(name):
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and ".." not in parts and "" not in parts


def _prepare_workdir(base, n, files):
    wd = os.path.join(base, "job%d" % n)
    os.mkdir(wd, 0o700)
    for name, content in (files or {}).items():
        if not _safe_name(name):
            raise ValueError("bad file name %r" % name)
        path = os.path.join(wd, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
    return wd


def _remove_tree(path):
    def fix(func, p, exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=fix)


class Zygote:
    def __init__(self, config):
        self.cfg = config
        self.n = 0
        self.base = config.get("workdir", "/tmp")
        self.sweep = config.get("sweep", False)  # kill(-1) is safe only inside a pid namespace
        protected = (1, os.getpid())
        self.filters = None
        if config.get("seccomp", False) and seccomp_supported():  # noqa: F821
            self.filters = {p: PreparedFilter(p, protected) for p in ("strict", "permissive")}  # noqa: F821
        self.drop_uid = config.get("drop_uid")
        self.max_fd = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 65536)
        self.drivers = {}  # driver source -> code object, compiled once here and inherited by every child
        try:  # shared with every child: its per-call watchdog slot (``_child.make_watch``)
            self.watch = mmap.mmap(-1, mmap.PAGESIZE)
        except (OSError, ValueError):
            self.watch = None

    def driver_code(self, source):
        """The compiled driver (trusted harness code, never the program): compiling a
        benchmark driver costs milliseconds, more than the fork itself, and every job of
        a benchmark uses the same one. None lets the child compile and report the error."""
        code = self.drivers.get(source)
        if code is None:
            try:
                code = compile(source, "<driver>", "exec")
            except (SyntaxError, ValueError):
                return None
            if len(self.drivers) >= 8:
                self.drivers.pop(next(iter(self.drivers)))
            self.drivers[source] = code
        return code

    def run_job(self, job):
        self.n += 1
        if job.get("driver") is not None:
            job["driver_code"] = self.driver_code(job["driver"])
        lim = job["limits"]
        try:
            wd = _prepare_workdir(self.base, self.n, job.get("files"))
        except (OSError, ValueError) as exc:
            return {"sandbox_error": "workdir: %s" % exc}
        if self.drop_uid is not None:
            for root, _dirs, names in os.walk(wd):
                for p in [root] + [os.path.join(root, x) for x in names]:
                    os.chown(p, self.drop_uid, self.drop_uid)
        stdin_data = job.get("stdin", "").encode()
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        msg_r, msg_w = os.pipe()
        if self.watch is not None:
            _WATCH.pack_into(self.watch, 0, 0.0)
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            child_main(job, (in_r, out_w, err_w, msg_w), wd, self.filters, self.drop_uid, self.max_fd,  # noqa: F821
                       self.watch)
        for fd in (in_r, out_w, err_w, msg_w):
            os.close(fd)
        try:
            report = self._supervise(pid, t0, lim, stdin_data, in_w, out_r, err_r, msg_r)
        finally:
            for fd in (in_w, out_r, err_r, msg_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            if self.sweep:
                try:
                    os.kill(-1, signal.SIGKILL)  # every other process in our pid namespace
                except OSError:
                    pass
            _remove_tree(wd)
        return report

    def _poll(self, pid, pidfd, poller, readers, deadline, pending, in_w):
        """Feed stdin, collect output, and wait for the child's exit, its wall-clock
        deadline or a per-call watchdog expiry (``_child.make_watch``), whichever comes first.
        Returns ``(timed_out, call_timed_out, status, rusage, in_w)``."""
        timed_out = exited = call_timed_out = False
        status = rusage = None
        watch, unpack = self.watch, _WATCH.unpack_from
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                timed_out = True
                break
            if watch is not None:
                call_end = unpack(watch, 0)[0]
                if call_end and now > call_end:
                    timed_out = call_timed_out = True
                    break
            tick = min(left, _WATCH_TICK_S) if pidfd is not None else min(left, 0.005)
            events = poller.poll(tick * 1000)
            for fd, ev in events:
                if fd == pidfd:
                    exited = True
                elif fd == in_w:
                    try:
                        pending = pending[os.write(in_w, pending[:65536]):]
                    except OSError:
                        pending = pending[:0]
                    if not pending:
                        poller.unregister(in_w)
                        os.close(in_w)
                        in_w = -1
                else:
                    data = os.read(fd, 65536) if ev & (select.POLLIN | select.POLLHUP) else b""
                    if not data:
                        poller.unregister(fd)
                        continue
                    readers[fd].add(data)
            if pidfd is None:
                wpid, status, rusage = os.wait4(pid, os.WNOHANG)
                exited = wpid != 0
            if exited:
                break
        return timed_out, call_timed_out, status, rusage, in_w

    def _supervise(self, pid, t0, lim, stdin_data, in_w, out_r, err_r, msg_r):
        out, err = _Capture(int(lim["output_bytes"])), _Capture(int(lim["output_bytes"]))
        msgs = _Messages(int(lim["message_bytes"]))
        deadline = t0 + float(lim["timeout_s"])
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        poller = select.poll()
        readers = {out_r: out, err_r: err, msg_r: msgs}
        for fd in readers:
            poller.register(fd, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        pending = memoryview(stdin_data)
        if pending:
            os.set_blocking(in_w, False)
            poller.register(in_w, select.POLLOUT)
        else:
            os.close(in_w)
            in_w = -1
        timed_out, call_timed_out, status, rusage, in_w = self._poll(
            pid, pidfd, poller, readers, deadline, pending, in_w)
        if in_w != -1:
            os.close(in_w)
        if timed_out:
            _kill(pid)
        if status is None:
            _, status, rusage = os.wait4(pid, 0)
        wall = time.monotonic() - t0
        if pidfd is not None:
            os.close(pidfd)
        _drain(readers)
        try:
            os.killpg(pid, signal.SIGKILL)  # leftovers of the job's own group
        except OSError:
            pass
        return {
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "timed_out": timed_out,
            "call_timed_out": call_timed_out,
            "wall_s": wall,
            "cpu_s": rusage.ru_utime + rusage.ru_stime,
            "maxrss_kb": rusage.ru_maxrss,
            "stdout": out.text(),
            "stderr": err.text(),
            "stdout_bytes": out.total,
            "stderr_bytes": err.total,
            "messages": msgs.data.decode("utf-8", "replace"),
            "message_overflow": msgs.overflow,
        }


def _kill(pid):
    """SIGKILL the job's process group, then the job itself (it may have left the group)."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except OSError:
            pass


def _drain(readers):
    """Read what the child wrote before it ended (descendants may still hold the pipes)."""
    for fd, sink in readers.items():
        os.set_blocking(fd, False)
        for _ in range(64):
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, OSError):
                break
            if not data:
                break
            sink.add(data)


def _self_test_seccomp():
    """Fork a probe that installs the strict filter and tries to fork: EPERM means active."""
    if not seccomp_supported():  # noqa: F821
        return False
    pid = os.fork()
    if pid == 0:
        try:
            install_filter(build_filter("strict", os.getpid()))  # noqa: F821
            try:
                p = os.fork()
            except PermissionError:
                os._exit(0)
            if p == 0:
                os._exit(0)
            os._exit(3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def main(config):
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _libc.prctl(4, 0, 0, 0, 0)  # noqa: F821  PR_SET_DUMPABLE=0: children cannot read our memory/fds
    preloaded = []
    for mod in config.get("preload", ()):
        try:
            __import__(mod)
            preloaded.append(mod)
        except Exception:
            pass
    seccomp_ok = config.get("seccomp", False) and _self_test_seccomp()
    config["seccomp"] = seccomp_ok
    zyg = Zygote(config)
    write_frame(proto_out, {
        "op": "ready", "pid": os.getpid(), "uid": os.getuid(), "euid": os.geteuid(),
        "seccomp": seccomp_ok, "preloaded": preloaded, "python": sys.version.split()[0],
    })
    while True:
        job = read_frame(proto_in)
        if job is None:
            return
        try:
            report = zyg.run_job(job)
        except Exception as exc:  # a zygote fault is the sandbox's, never the program's
            report = {"sandbox_error": "%s: %s" % (type(exc).__name__, exc)}
        report["id"] = job.get("id")
        write_frame(proto_out, report)
