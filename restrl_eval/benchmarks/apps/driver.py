"""Sandbox side of the APPS metric: runs one program on APPS tests and reports raw outputs.

Imported by the harness (``encode``/``decode``, ``wrap_stdin_program``, ``PREAMBLE``) and run as
a job's driver text in the sandbox; stdlib only. Payload and messages: README.md here.
"""
import builtins
import io
import sys
import types

# The reference harness (hendrycks/apps eval/testing_util.py, also used by ReST-RL)
# executes every program after these imports, so programs may use e.g. ``sqrt``,
# ``Counter``, ``List`` or ``np`` without importing them. Part of the metric: both modes
# provide the same names.
PREAMBLE_LINES = (
    "import sys",
    "import time",
    "import itertools",
    "from itertools import accumulate, product, permutations, combinations",
    "import collections",
    "from collections import Counter, OrderedDict, deque, defaultdict, ChainMap",
    "from functools import lru_cache",
    "import math",
    "from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2",
    "import fractions",
    "from typing import List, Tuple",
    "import numpy as np",
    "import random",
    "import heapq",
    "from heapq import *",
)
PREAMBLE = "\n".join(PREAMBLE_LINES) + "\n"

MAX_DEPTH = 200
MAX_NODES = 2_000_000


# ---------------------------------------------------------------------------------------
# value codec: plain values only, so the harness never runs an object of the program's
# ---------------------------------------------------------------------------------------
class Opaque:
    """Stands for a value the codec does not carry (custom objects, arrays, too deep or
    too large). Equal to nothing, itself included, so it never passes a comparison."""

    __slots__ = ("what",)

    def __init__(self, what=""):
        self.what = what

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return "<opaque %s>" % self.what


def _plain_kind(value):
    """The plain builtin a value is compared as, or None. A subclass counts as its base
    only when it keeps the base's ``__eq__`` (so no program-defined equality sneaks in);
    OrderedDict and Counter compare as dicts against the JSON-born expected values."""
    t = type(value)
    if value is None:
        return "none"
    if t is bool:
        return "bool"
    for base, tag in ((int, "int"), (float, "float"), (str, "str"), (bytes, "bytes"), (list, "list"),
                      (tuple, "tuple"), (dict, "dict"), (set, "set"), (frozenset, "frozenset")):
        if t is base:
            return tag
    for base, tag in ((int, "int"), (float, "float"), (str, "str"), (list, "list"), (tuple, "tuple"),
                      (dict, "dict"), (set, "set"), (frozenset, "frozenset")):
        if isinstance(value, base):
            if t.__eq__ is base.__eq__ or t.__module__ == "collections":
                return tag
            return None
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        if isinstance(value, np.bool_):
            return "np.bool"
        if isinstance(value, np.integer):
            return "np.int"
        if isinstance(value, np.floating):
            return "np.float"
        if isinstance(value, np.str_):
            return "str"
    return None


def encode(value, _depth=0, _budget=None):
    """A JSON-able tagged tree of ``value``: ``[tag, payload]``. Ints travel as hex (no
    digit limit), floats as ``float.hex`` (exact), containers recursively."""
    if _budget is None:
        _budget = [MAX_NODES]
    _budget[0] -= 1
    if _budget[0] < 0:
        return ["opaque", "too large"]
    if _depth > MAX_DEPTH:
        return ["opaque", "too deep"]
    kind = _plain_kind(value)
    if kind is None:
        return ["opaque", type(value).__name__[:100]]
    if kind == "none":
        return ["none"]
    if kind in ("bool", "np.bool"):
        return ["bool", bool(value)]
    if kind in ("int", "np.int"):
        return ["int", hex(int.__index__(value) if kind == "int" else int(value))]
    if kind in ("float", "np.float"):
        return ["float", float.hex(float.__float__(value) if kind == "float" else float(value))]
    if kind == "str":
        return ["str", str.__str__(value)]
    if kind == "bytes":
        return ["bytes", bytes.hex(value)]
    d = _depth + 1
    if kind == "dict":
        return ["dict", [[encode(k, d, _budget), encode(v, d, _budget)] for k, v in dict.items(value)]]
    it = {"list": list.__iter__, "tuple": tuple.__iter__, "set": set.__iter__, "frozenset": frozenset.__iter__}[kind]
    return [kind, [encode(x, d, _budget) for x in it(value)]]


def _decode(tree):
    tag = tree[0]
    if tag == "none":
        return None
    if tag == "bool":
        return bool(tree[1])
    if tag == "int":
        return int(tree[1], 16)
    if tag == "float":
        return float.fromhex(tree[1])
    if tag == "str":
        return str(tree[1])
    if tag == "bytes":
        return bytes.fromhex(tree[1])
    if tag == "list":
        return [_decode(x) for x in tree[1]]
    if tag == "tuple":
        return tuple(_decode(x) for x in tree[1])
    if tag == "set":
        return {_decode(x) for x in tree[1]}
    if tag == "frozenset":
        return frozenset(_decode(x) for x in tree[1])
    if tag == "dict":
        return {_decode(k): _decode(v) for k, v in tree[1]}
    if tag == "opaque":
        return Opaque(str(tree[1]) if len(tree) > 1 else "")
    raise ValueError("unknown tag %r" % (tag,))


def decode(tree):
    """Rebuild plain values from ``encode``'s tree. Malformed trees (a program may emit
    anything) become an ``Opaque`` that equals nothing."""
    try:
        return _decode(tree)
    except Exception as exc:  # includes RecursionError, unhashable set members, bad hex
        return Opaque("malformed: %s" % type(exc).__name__)


# ---------------------------------------------------------------------------------------
# the reference's rewrite of a standard-input program
# ---------------------------------------------------------------------------------------
def wrap_stdin_program(program):
    """The body of a standard-input program moved into a function ``code()``, as the
    reference harness does before calling it once per test: lines that start with
    ``import ``/``from `` before the first other line stay at module level, every other
    line is indented by a tab under ``def code():`` (which is why a program guarded by
    ``if __name__ == "__main__":`` prints nothing there)."""
    out = []
    started = False
    for line in program.split("\n"):
        is_import = line.startswith("from ") or line.startswith("import ")
        if not started and not is_import:
            out.append("stdin = sys.stdin\nstdout = sys.stdout\ndef code():\n")
            started = True
        out.append(line + "\n" if not started else "\t" + line + "\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------
# running (inside the sandbox only)
# ---------------------------------------------------------------------------------------
def _describe(exc):
    return ("%s: %s" % (type(exc).__name__, exc))[:500]


def _new_module(name):
    """A fresh module registered in ``sys.modules`` (as the reference's pyext
    ``RuntimeModule`` does), so classes defined by the program can be found by name
    (pickle, dataclasses)."""
    module = types.ModuleType(name)
    module.__dict__["__builtins__"] = builtins
    sys.modules[name] = module
    return module


def _flush_streams():
    for stream in (sys.stdout, sys.__stdout__):
        try:
            stream.flush()
        except BaseException:
            pass


def _join_threads(deadline_s):
    """Wait for the program's non-daemon threads, as the interpreter does at exit (a
    common idiom starts ``main`` in a thread with a bigger stack)."""
    import threading
    import time

    end = time.monotonic() + deadline_s
    for th in threading.enumerate():
        if th is threading.main_thread() or th.daemon:
            continue
        th.join(max(0.0, end - time.monotonic()))


def _fixed_stdin(rt, p):
    """One test: the program runs as ``__main__`` on the real standard input and output."""
    ns = _new_module("__main__").__dict__
    exec(p["preamble"], ns)
    try:
        code = compile(rt.program, "<program>", "exec")
    except (SyntaxError, ValueError) as exc:
        rt.emit(kind="compile_error", error=_describe(exc))
        return
    try:
        with rt.time_limit(p["timeout"]):
            try:
                exec(code, ns)
            except SystemExit:  # the reference accepts whatever was printed before exit
                pass
            _join_threads(p["timeout"])
    finally:
        _flush_streams()


def _find_callable(ns, fn_name):
    cls = ns.get("Solution")
    if isinstance(cls, type) and hasattr(cls, fn_name):
        return getattr(cls(), fn_name)
    fn = ns.get(fn_name)
    return fn if callable(fn) else None


def _fixed_call(rt, p):
    """One test: load the program (not as ``__main__``), call the function once."""
    ns = _new_module("solution").__dict__
    exec(p["preamble"], ns)
    try:
        code = compile(rt.program, "<program>", "exec")
        with rt.time_limit(p["timeout"]):
            exec(code, ns)
            target = _find_callable(ns, p["fn_name"])
    except BaseException as exc:
        rt.emit(kind="compile_error", error=_describe(exc))
        return
    if target is None:
        rt.emit(kind="compile_error", error="no function or Solution method named %r" % p["fn_name"])
        return
    args = decode(p["args"])
    try:
        with rt.time_limit(p["timeout"]):
            value = encode(target(*args))
    except BaseException as exc:  # SystemExit included: it only costs this one test
        rt.emit(kind="output", index=p["index"], ok=False, error=_describe(exc))
        return
    rt.emit(kind="output", index=p["index"], ok=True, value=value)


def _reference_guard():
    """The part of the reference's ``reliability_guard`` that changes ordinary programs'
    verdicts: ``exit``/``quit`` are set to None (calling them raises TypeError)."""
    builtins.exit = None
    builtins.quit = None


def _run_patched(method, text):
    """Call ``code()`` with standard input replaced the way the reference does it:
    ``open`` returns a mock file holding the input, ``sys.stdin`` becomes a StringIO,
    and (because of the order its decorators apply in) ``read``/``readline``/
    ``readlines`` are patched on the stream that *was* ``sys.stdin`` before the swap, so
    a module-level ``from sys import stdin`` sees lines without their newline."""
    import contextlib
    from unittest import mock

    lines = iter(text.split("\n"))
    with contextlib.ExitStack() as stack:
        old = sys.stdin
        stack.enter_context(mock.patch.object(old, "read", lambda *a: text))
        stack.enter_context(mock.patch.object(old, "readlines", lambda *a: text.split("\n")))
        stack.enter_context(mock.patch.object(old, "readline", lambda *a: next(lines)))
        stack.enter_context(mock.patch.object(sys, "stdin", io.StringIO(text)))
        stack.enter_context(mock.patch("builtins.open", mock.mock_open(read_data=text)))
        try:
            method()
        except SystemExit:
            pass


def _reference_stdin(rt, p):
    # watch=False here and in _reference_call: the reference keeps its global-timeout
    # semantics (a test that swallows its timer runs on until the global timeout)
    _reference_guard()
    module = _new_module("tmp_sol")
    try:
        with rt.time_limit(p["timeout"], watch=False):
            exec(compile(p["preamble"] + wrap_stdin_program(rt.program), "tmp_sol", "exec"), module.__dict__)
        method = module.code
    except Exception as exc:
        rt.emit(kind="compile_error", error=_describe(exc))
        return
    for index, inputs in enumerate(p["inputs"]):
        text = "\n".join(inputs) if isinstance(inputs, list) else inputs
        buf = io.StringIO()
        buf.close = lambda x: 1  # as the reference's capture: closing stdout is a TypeError
        saved, sys.stdout = sys.stdout, buf
        error = None
        try:
            with rt.time_limit(p["timeout"], watch=False):
                _run_patched(method, text)
        except Exception as exc:  # BaseException escapes and ends the process, as there
            error = exc
        finally:
            sys.stdout = saved
        if error is None:
            rt.emit(kind="output", index=index, ok=True, text=io.StringIO.getvalue(buf))
        else:
            rt.emit(kind="output", index=index, ok=False, error=_describe(error))


def _reference_call(rt, p):
    _reference_guard()
    module = _new_module("tmp_sol")
    try:
        with rt.time_limit(p["timeout"], watch=False):
            exec(compile(p["preamble"] + rt.program, "tmp_sol", "exec"), module.__dict__)
            # the reference decides by text, not by what the program defines
            owner = module.Solution() if "class Solution" in rt.program else module
        method = getattr(owner, p["fn_name"])
    except Exception as exc:
        rt.emit(kind="compile_error", error=_describe(exc))
        return
    for index, tree in enumerate(p["inputs"]):
        args = decode(tree)
        try:
            with rt.time_limit(p["timeout"], watch=False):
                value = encode(method(*args))
        except Exception as exc:
            rt.emit(kind="output", index=index, ok=False, error=_describe(exc))
            continue
        rt.emit(kind="output", index=index, ok=True, value=value)


def _main(rt):
    p = rt.payload
    run = {
        ("fixed", "stdin"): _fixed_stdin,
        ("fixed", "call"): _fixed_call,
        ("reference", "stdin"): _reference_stdin,
        ("reference", "call"): _reference_call,
    }[(p["mode"], p["style"])]
    run(rt, p)


if __name__ == "__restrl_driver__":
    _main(restrl)  # noqa: F821  (the executor's global)
