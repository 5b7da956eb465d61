"""Sandbox driver for HumanEval(+)/MBPP(+): runs one program on base and plus inputs.

Executed INSIDE the sandbox (see ``restrl_eval/execution/_child.py``), after the source
of ``codec.py`` (for ``make_encoder``/``decode``) and ``_driver_io.py`` (``swallow_stdio``);
importing this module does nothing.
It never judges: it reports each output, encoded, as ``{"kind": "o", "p": phase,
"i": index, "v": tree}`` (or ``"x": exception name``) and ``{"kind": "end", "p": phase,
"r": "done" | "killed"}``; the trusted harness compares with the expected outputs.

Semantics follow evalplus 0.3.1 ``unsafe_execute``/``untrusted_check``:
- each phase (base, plus) executes the program afresh in an empty namespace, output
  swallowed, stdin unreadable, the reliability guard's patches applied;
- each call gets ``max(1.0, 4 x ground-truth time)`` seconds (SIGALRM); an exception or
  an expired limit ends the phase (evalplus' fast check);
- the whole phase has evalplus' process budget, ``min(60, sum(limits)) + 2`` seconds;
  past it the phase is "killed" (evalplus kills the process: status ``timeout``).
Outputs that are wrong do not stop the phase (the driver cannot know they are wrong
without seeing the expected values, which must stay out of the sandbox); the harness
ignores everything after the first failure, as evalplus never runs it.

``mode == "truth"`` runs the trusted canonical solution instead, timing each call on a
deep copy of the input like evalplus' ``trusted_exec``.
"""


def _restrl_evalplus_main(restrl):
    import builtins
    import contextlib
    import copy
    import json
    import math
    import signal
    import sys
    import time

    payload = json.loads(restrl.payload)
    mode = payload["mode"]
    entry_point = payload["entry_point"]
    encode = make_encoder(bool(payload.get("materialize")))  # noqa: F821 (inlined codec)
    emit = restrl.emit
    monotonic, wall = time.monotonic, time.time
    # the C functions, not signal.signal's enum-converting wrapper: they run twice per call
    setitimer, set_handler, ITIMER_REAL, SIGALRM = (signal.setitimer, sys.modules["_signal"].signal,
                                                    int(signal.ITIMER_REAL), int(signal.SIGALRM))
    deepcopy = copy.deepcopy
    compile_, exec_, type_, str_ = builtins.compile, builtins.exec, builtins.type, builtins.str
    BaseException_ = builtins.BaseException
    isinstance, enumerate, float, min, max = (builtins.isinstance, builtins.enumerate, builtins.float,
                                              builtins.min, builtins.max)
    bool_, int_, str_len, isfinite = builtins.bool, builtins.int, builtins.len, math.isfinite
    safe_int = _SAFE_INT  # noqa: F821 (inlined codec)

    class Timeout(Exception):  # like evalplus' TimeoutException: catchable by `except Exception`
        pass

    def on_alarm(signum, frame):
        raise Timeout("Timed out!")

    @contextlib.contextmanager
    def time_limit(seconds):
        setitimer(ITIMER_REAL, max(seconds, 1e-4))
        set_handler(SIGALRM, on_alarm)
        try:
            yield
        finally:
            setitimer(ITIMER_REAL, 0)

    swallow_io = swallow_stdio  # noqa: F821 (inlined _driver_io)

    def name_of(exc):
        try:
            return str_(type_(exc).__name__)[:80]
        except BaseException_:
            return "?"

    large = int(payload.get("large_bytes", 65536))

    def len_(x):
        t = type_(x)
        return len(x) if t is list or t is tuple else 0

    def encoded(out, budget):
        """``{"v": tree}``, or for a tree over ``large`` bytes of JSON its canonical digest
        ``{"h": sha256, "e": exotic}`` (whole outputs of many MB would not fit the channel)."""
        t = type_(out)  # exact builtin scalars are their own tree: no timer, no walk
        if out is None or t is bool_ or (t is int_ and -safe_int < out < safe_int) or (t is float and isfinite(out)):
            return {"v": out}
        if t is str_ and str_len(out) + 2 <= large:
            return {"v": out}
        try:
            with time_limit(budget):
                digest = numeric_sequence_digest(out) if len_(out) > 4096 else None  # noqa: F821
                if digest is not None:
                    return {"h": digest, "e": False}
                tree = encode(out)
                if not json_size_over(tree, large):  # noqa: F821 (inlined codec)
                    return {"v": tree}
                digest, exotic = canon_digest(tree)  # noqa: F821 (inlined codec)
                return {"h": digest, "e": exotic}
        except BaseException_ as exc:
            return {"v": {"O": "unencodable:" + name_of(exc)}}

    def floats(x):  # evalplus' is_floats, for expected outputs sent as digests
        if isinstance(x, float):
            return True
        if isinstance(x, (list, tuple)) and x:
            return all(isinstance(i, float) for i in x)
        np = sys.modules.get("numpy")
        if np is not None and isinstance(x, np.ndarray):
            return x.dtype == np.float64 or x.dtype == np.float32
        return False

    def load(budget_s):
        namespace = {}
        with time_limit(budget_s):
            with swallow_io():
                exec_(compile_(restrl.program, "<string>", "exec"), namespace)
                return namespace[entry_point]

    getsizeof = sys.getsizeof

    def memory_size(x):
        """Approximate bytes of ``x`` as CPython objects, shared objects counted once; long
        sequences are measured on 256 evenly spaced elements and scaled. evalplus' worker
        process holds the expected outputs; their size decides where it runs out of its
        4 GiB address space (see ``_evalplus_data.MemoryModel``)."""
        seen = set()

        def size(v, depth):
            if id(v) in seen or depth > 50:
                return 0
            seen.add(id(v))
            total = getsizeof(v)
            if isinstance(v, dict):
                items = list(v.items())
                n = len(items)
                step = max(1, n // 256)
                part = sum(size(k, depth + 1) + size(w, depth + 1) for k, w in items[::step])
                return total + part * (n / max(1, len(items[::step])))
            if isinstance(v, (list, tuple, set, frozenset)):
                seq = list(v)
                n = len(seq)
                sample = seq[::max(1, n // 256)]
                part = sum(size(w, depth + 1) for w in sample)
                return total + part * (n / max(1, len(sample)))
            return total

        try:
            return int(size(x, 0))
        except BaseException:
            return 0

    if mode == "truth":
        not_none = bool(payload.get("output_not_none"))
        for p, phase in enumerate(payload["phases"]):
            inputs = decode(phase["inputs"])  # noqa: F821 (inlined codec)
            fn = load(600.0)
            for i, inp in enumerate(inputs):
                inp = deepcopy(inp)
                with swallow_io():
                    start = wall()
                    out = fn(*inp)
                    took = wall() - start
                if not_none:
                    out = out is not None
                report = encoded(out, 60.0)
                if "h" in report:
                    report["f"] = floats(out)
                emit(kind="o", p=p, i=i, t=took, m=memory_size(out), **report)
            emit(kind="end", p=p, r="done")
        return

    if payload.get("guard", True):
        _guard()
    for p, phase in enumerate(payload["phases"]):
        inputs = decode(phase["inputs"])  # noqa: F821
        limits = phase["limits"]
        budget = float(phase["budget"])
        start = monotonic()

        def left():
            return budget - (monotonic() - start)

        try:
            fn = load(max(left(), 1e-3))
        except Timeout as exc:
            reason = "killed" if left() <= 0.01 else "load_error"
            emit(kind="end", p=p, r=reason, x=name_of(exc))
            if reason == "killed":
                return  # the process would be gone: the harness reruns later phases apart
            continue
        except BaseException_ as exc:
            emit(kind="end", p=p, r="load_error", x=name_of(exc))
            continue
        if left() <= 0:
            emit(kind="end", p=p, r="killed")
            return
        reason = "done"
        for i, inp in enumerate(inputs):
            remaining = left()
            if remaining <= 0:
                reason = "killed"
                break
            limit = limits[i]
            by_budget = remaining <= limit
            try:
                # evalplus' ``time_limit`` around ``swallow_io`` around the call, written out:
                # two context managers per call cost more than a small program's call.
                set_handler(SIGALRM, on_alarm)
                setitimer(ITIMER_REAL, max(min(limit, remaining), 1e-4))
                try:
                    saved = sys.stdin, sys.stdout, sys.stderr
                    sys.stdout = sys.stderr = sys.stdin = WriteOnlyStringIO()  # noqa: F821
                    try:
                        out = fn(*inp)
                    finally:
                        sys.stdin, sys.stdout, sys.stderr = saved
                finally:
                    setitimer(ITIMER_REAL, 0)
            except BaseException_ as exc:
                if (by_budget and isinstance(exc, Timeout)) or left() <= 0:
                    reason = "killed"
                    break
                emit(kind="o", p=p, i=i, x=name_of(exc))
                reason = "error"
                break
            if left() <= 0:
                reason = "killed"
                break
            emit(kind="o", p=p, i=i, **encoded(out, 10.0 + max(left(), 0.0)))
        emit(kind="end", p=p, r=reason)
        if reason == "killed":
            return


def _guard():
    """The program-visible part of evalplus' ``reliability_guard``: the same names are
    disabled, so programs that use them fail here exactly as they fail there. Not a
    security measure (the sandbox is); applied after the driver captured what it uses."""
    import builtins
    import faulthandler
    import os
    import shutil
    import subprocess
    import sys

    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                 "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod",
                 "fchown", "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"):
        setattr(os, name, None)
    builtins.open = None
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None
    builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


if __name__ == "__restrl_driver__":
    _restrl_evalplus_main(restrl)  # noqa: F821 (the sandbox's global)
