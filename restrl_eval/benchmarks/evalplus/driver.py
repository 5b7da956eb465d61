"""Sandbox driver for HumanEval(+)/MBPP(+): runs one program on base and plus inputs.

Standalone text executed INSIDE the sandbox after the codec and stdio parts
(``sandbox.driver_source``); importing it does nothing. It reports outputs, never judges.
Messages and semantics: README.md in this folder.
"""


class Timeout(Exception):  # like evalplus' TimeoutException: catchable by `except Exception`
    pass


def _evalplus_timer(restrl):
    """The per-call alarm, with references captured before the program runs.

    Returns (on_alarm, time_limit, setitimer, set_handler, ITIMER_REAL, SIGALRM, clear): the C
    functions, not signal.signal's enum-converting wrapper, since they run twice per call.
    ``on_alarm`` starts the sandbox's watchdog before raising: a program that swallows the
    ``Timeout`` and runs on is killed from outside after a short grace (evalplus kills it at
    its process budget; the verdict is the same, ``timeout`` at that input). ``clear`` ends
    the watch when a call ends."""
    import contextlib
    import signal
    import sys

    setitimer, set_handler, ITIMER_REAL, SIGALRM = (signal.setitimer, sys.modules["_signal"].signal,
                                                    int(signal.ITIMER_REAL), int(signal.SIGALRM))
    max_ = max
    fired, clear = restrl.watchdog()

    def on_alarm(signum, frame):
        fired()
        raise Timeout("Timed out!")

    @contextlib.contextmanager
    def time_limit(seconds):
        setitimer(ITIMER_REAL, max_(seconds, 1e-4))
        set_handler(SIGALRM, on_alarm)
        try:
            yield
        finally:
            setitimer(ITIMER_REAL, 0)
            clear()

    return on_alarm, time_limit, setitimer, set_handler, ITIMER_REAL, SIGALRM, clear


def _evalplus_name_of():
    import builtins

    str_, type_, BaseException_ = builtins.str, builtins.type, builtins.BaseException

    def name_of(exc):
        try:
            return str_(type_(exc).__name__)[:80]
        except BaseException_:
            return "?"

    return name_of


def _evalplus_describe(program):
    """``describe(exc)``: ``{"m": message, "tb": traceback tail}`` to go with a failure report.

    Nothing here runs the program's code (evalplus never formats the exception, so a
    program-defined ``__str__`` or a patched ``traceback``/``linecache`` must not be able to
    hang or change a verdict): the message is shown only for builtin exception classes whose
    arguments are plain scalars, and the traceback is walked by hand from interpreter
    objects, with source lines taken from the program text itself."""
    import builtins
    import collections

    type_, str_, len_, id_, all_ = builtins.type, builtins.str, builtins.len, builtins.id, builtins.all
    BaseException_ = builtins.BaseException
    args_of, tb_of = BaseException_.args.__get__, BaseException_.__traceback__.__get__
    deque_, join = collections.deque, "\n".join
    # identities, not the types themselves: a program's metaclass could define __hash__/__eq__
    plain = {id(t) for t in (str, int, float, bool, type(None))}
    builtin_excs = {id(v) for v in vars(builtins).values() if type(v) is type and issubclass(v, BaseException)}
    syntax = {id(SyntaxError), id(IndentationError), id(TabError)}
    msg_of, line_of = SyntaxError.msg.__get__, SyntaxError.lineno.__get__
    lines = program.split("\n")

    def describe(exc):
        try:
            t, report = type_(exc), {}
            if id_(t) in syntax:
                msg, row = msg_of(exc), line_of(exc)
                if id_(type_(msg)) in plain and id_(type_(row)) in plain:
                    report["m"] = "%s (line %s)" % (str_(msg)[:200], str_(row)[:20])
            elif id_(t) in builtin_excs and all_(id_(type_(a)) in plain for a in args_of(exc)):
                report["m"] = str_(exc)[:300]
            frames, tb = deque_(maxlen=6), tb_of(exc)
            while tb is not None:
                code = tb.tb_frame.f_code
                if code.co_filename != "<driver>":
                    row = tb.tb_lineno
                    src = lines[row - 1].strip()[:120] if code.co_filename == "<string>" and 0 < row <= len_(lines) else ""
                    frames.append('  File "%s", line %d, in %s%s' % (str_(code.co_filename)[:80], row,
                                                                     str_(code.co_name)[:80], "\n    " + src if src else ""))
                tb = tb.tb_next
            report["tb"] = join(frames)
            return report
        except BaseException_:
            return {}

    return describe


def _evalplus_encoded(payload, time_limit, name_of):
    """``encoded(out, budget)``: ``{"v": tree}``, or for a tree over ``large`` bytes of JSON its
    canonical digest ``{"h": sha256, "e": exotic}`` (whole outputs of many MB would not fit
    the channel). References are captured here, before the program runs."""
    import builtins
    import math

    encode = make_encoder(bool(payload.get("materialize")))  # (inlined codec)
    type_, str_, BaseException_ = builtins.type, builtins.str, builtins.BaseException
    bool_, int_, float_, str_len, isfinite = builtins.bool, builtins.int, builtins.float, builtins.len, math.isfinite
    safe_int = _SAFE_INT  # (inlined codec)
    large = int(payload.get("large_bytes", 65536))

    def len_(x):
        t = type_(x)
        return len(x) if t is list or t is tuple else 0

    def encoded(out, budget):
        t = type_(out)  # exact builtin scalars are their own tree: no timer, no walk
        if out is None or t is bool_ or (t is int_ and -safe_int < out < safe_int) or (t is float_ and isfinite(out)):
            return {"v": out}
        if t is str_ and str_len(out) + 2 <= large:
            return {"v": out}
        try:
            with time_limit(budget):
                digest = numeric_sequence_digest(out) if len_(out) > 4096 else None
                if digest is not None:
                    return {"h": digest, "e": False}
                tree = encode(out)
                if not json_size_over(tree, large):  # (inlined codec)
                    return {"v": tree}
                digest, exotic = canon_digest(tree)  # (inlined codec)
                return {"h": digest, "e": exotic}
        except BaseException_ as exc:
            return {"v": {"O": "unencodable:" + name_of(exc)}}

    return encoded


def _evalplus_loader(restrl, entry_point, time_limit):
    """``load(budget_s)``: execute the program afresh in an empty namespace, output swallowed."""
    import builtins

    compile_, exec_ = builtins.compile, builtins.exec
    swallow_io = swallow_stdio  # (inlined sandbox/stdio.py)

    def load(budget_s):
        namespace = {}
        with time_limit(budget_s):
            with swallow_io():
                exec_(compile_(restrl.program, "<string>", "exec"), namespace)
                return namespace[entry_point]

    return load


def _evalplus_floats(x):  # evalplus' is_floats, for expected outputs sent as digests
    import sys

    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(x, np.ndarray):
        return x.dtype == np.float64 or x.dtype == np.float32
    return False


def _evalplus_memory_size(x):
    """Approximate bytes of ``x`` as CPython objects, shared objects counted once; long
    sequences are measured on 256 evenly spaced elements and scaled. evalplus' worker
    process holds the expected outputs; their size decides where it runs out of its
    4 GiB address space (see ``evalplus.data.MemoryModel``)."""
    import sys

    getsizeof = sys.getsizeof
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


def _evalplus_truth(payload, emit, load, encoded):
    """``mode == "truth"``: the trusted canonical solution, each call timed on a deep copy of
    its input like evalplus' ``trusted_exec``."""
    import copy
    import time

    deepcopy, wall = copy.deepcopy, time.time
    not_none = bool(payload.get("output_not_none"))
    for p, phase in enumerate(payload["phases"]):
        inputs = decode(phase["inputs"])  # (inlined codec)
        fn = load(600.0)
        for i, inp in enumerate(inputs):
            inp = deepcopy(inp)
            with swallow_stdio():
                start = wall()
                out = fn(*inp)
                took = wall() - start
            if not_none:
                out = out is not None
            report = encoded(out, 60.0)
            if "h" in report:
                report["f"] = _evalplus_floats(out)
            emit(kind="o", p=p, i=i, t=took, m=_evalplus_memory_size(out), **report)
        emit(kind="end", p=p, r="done")


def _evalplus_calls(emit, encoded, timer, name_of, describe):
    """``run(p, fn, inputs, limits, left)``: one phase's calls under evalplus' per-call limit
    and fast check, returning how the phase ended. Made before the program runs: every
    reference the loop uses is captured here."""
    import builtins
    import sys

    on_alarm, _time_limit, setitimer, set_handler, ITIMER_REAL, SIGALRM, clear = timer
    BaseException_, isinstance, enumerate, min, max = (builtins.BaseException, builtins.isinstance,
                                                       builtins.enumerate, builtins.min, builtins.max)

    def run(p, fn, inputs, limits, left, timed=False):
        for i, inp in enumerate(inputs):
            remaining = left()
            if remaining <= 0:
                return "killed"
            limit = limits[i]
            by_budget = remaining <= limit
            try:
                # evalplus' ``time_limit`` around ``swallow_io`` around the call, written out:
                # two context managers per call cost more than a small program's call.
                set_handler(SIGALRM, on_alarm)
                setitimer(ITIMER_REAL, max(min(limit, remaining), 1e-4))
                try:
                    saved = sys.stdin, sys.stdout, sys.stderr
                    sys.stdout = sys.stderr = sys.stdin = WriteOnlyStringIO()
                    try:
                        out = fn(*inp)
                    finally:
                        sys.stdin, sys.stdout, sys.stderr = saved
                finally:
                    setitimer(ITIMER_REAL, 0)
                    clear()
            except BaseException_ as exc:
                if (by_budget and isinstance(exc, Timeout)) or left() <= 0:
                    return "killed"
                emit(kind="o", p=p, i=i, x=name_of(exc), **describe(exc))
                return "error"
            after = left()
            if after <= 0:
                return "killed"
            if timed:  # a chunk of a phase: the harness adds the times up in input order
                emit(kind="o", p=p, i=i, t=remaining - after, **encoded(out, 10.0 + after))
            else:
                emit(kind="o", p=p, i=i, **encoded(out, 10.0 + after))
        return "done"

    return run


def _evalplus_judge(payload, emit, load, run_calls, name_of, describe):
    """``mode == "judge"``: each phase executes the program afresh, under evalplus' process
    budget; a phase past it is "killed" and ends the job (the harness reruns later phases)."""
    import builtins
    import time

    monotonic, BaseException_, float_, max_ = time.monotonic, builtins.BaseException, builtins.float, builtins.max
    for p, phase in enumerate(payload["phases"]):
        inputs = decode(phase["inputs"])  # (inlined codec)
        limits = phase["limits"]
        budget = float_(phase["budget"])
        start = monotonic()

        def left():
            return budget - (monotonic() - start)  # noqa: B023 (called only within this iteration)

        try:
            fn = load(max_(left(), 1e-3))
        except Timeout as exc:
            reason = "killed" if left() <= 0.01 else "load_error"
            emit(kind="end", p=p, r=reason, x=name_of(exc))
            if reason == "killed":
                return  # the process would be gone: the harness reruns later phases apart
            continue
        except BaseException_ as exc:
            emit(kind="end", p=p, r="load_error", x=name_of(exc), **describe(exc))
            continue
        if left() <= 0:
            emit(kind="end", p=p, r="killed")
            return
        reason = run_calls(p, fn, inputs, limits, left, bool(phase.get("timed")))
        emit(kind="end", p=p, r=reason)
        if reason == "killed":
            return


def _restrl_evalplus_main(restrl):
    import json

    payload = json.loads(restrl.payload)
    timer = _evalplus_timer(restrl)
    name_of = _evalplus_name_of()
    encoded = _evalplus_encoded(payload, timer[1], name_of)
    load = _evalplus_loader(restrl, payload["entry_point"], timer[1])
    if payload["mode"] == "truth":
        _evalplus_truth(payload, restrl.emit, load, encoded)
        return
    describe = _evalplus_describe(restrl.program)
    run_calls = _evalplus_calls(restrl.emit, encoded, timer, name_of, describe)
    if payload.get("guard", True):
        _guard()
    _evalplus_judge(payload, restrl.emit, load, run_calls, name_of, describe)


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
