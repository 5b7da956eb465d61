"""Sandbox side of the ``mini`` metric: load one program, call its function on each input.

Runs as a job's driver inside the sandboxed child (global ``restrl``, see
``restrl_eval/execution/_child.py``); the harness also imports ``encode``/``decode`` from
here so both sides share one value codec. Stdlib only, no import of ``restrl_eval``.

Why raw outputs: the untrusted program shares this process, so a verdict decided here
could be forged. The driver never sees the expected values; it reports what each call
returned as a tagged tree of plain values (an object of the program's own class becomes
``opaque``, which equals nothing) and the harness compares.

Payload: ``entry_point``, ``inputs`` (a list of encoded argument lists), ``timeout``
(seconds per call). Messages: ``{"kind": "load_error", "error": str}`` or, per input,
``{"kind": "output", "index": i, "ok": true, "value": tree}`` /
``{"kind": "output", "index": i, "ok": false, "error": str, "timeout": bool}``.
"""
import builtins

_SCALARS = {bool: "b", int: "i", float: "f", str: "s", type(None): "n"}


def encode(value, depth=0):
    """A JSON-able tagged tree; only exact builtin types (no subclasses) are carried."""
    t = type(value)
    if depth > 50:
        return ["o", "too deep"]
    if t in _SCALARS:
        tag = _SCALARS[t]
        if tag == "i":
            return ["i", str(value)]
        if tag == "f":
            return ["f", float.hex(value)]
        return [tag, value]
    if t is list or t is tuple:
        return ["l" if t is list else "t", [encode(x, depth + 1) for x in value]]
    return ["o", t.__name__[:80]]


class Opaque:
    """Stands for a value the codec does not carry; equal to nothing, itself included."""

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    __hash__ = None


def decode(tree):
    """Plain values back from ``encode``'s tree; anything malformed is an ``Opaque``."""
    try:
        tag, body = tree
        if tag == "i":
            return int(body)
        if tag == "f":
            return float.fromhex(body)
        if tag in ("b", "s", "n") and type(body) is {"b": bool, "s": str, "n": type(None)}[tag]:
            return body
        if tag in ("l", "t"):
            items = [decode(x) for x in body]
            return items if tag == "l" else tuple(items)
    except Exception:
        pass
    return Opaque()


def _describe(exc):
    return ("%s: %s" % (type(exc).__name__, exc))[:300]


def _main(rt):
    p = rt.payload
    ns = {"__name__": "solution", "__builtins__": builtins}
    try:
        with rt.time_limit(p["timeout"]):
            exec(compile(rt.program, "<program>", "exec"), ns)
        fn = ns.get(p["entry_point"])
        if not callable(fn):
            raise NameError("no function named %r" % p["entry_point"])
    except BaseException as exc:
        rt.emit(kind="load_error", error=_describe(exc))
        return
    for index, args in enumerate(p["inputs"]):
        try:
            with rt.time_limit(p["timeout"]):
                value = encode(fn(*decode(args)))
        except BaseException as exc:  # SystemExit included: it only costs this call
            rt.emit(kind="output", index=index, ok=False, error=_describe(exc),
                    timeout=isinstance(exc, TimeoutError))
            continue
        rt.emit(kind="output", index=index, ok=True, value=value)


if __name__ == "__restrl_driver__":
    _main(restrl)  # noqa: F821  (the executor's global)
