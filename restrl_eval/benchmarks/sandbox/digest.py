"""Value-canonical digests of encoded trees, for outputs too large to cross whole.

Standalone text (stdlib only): inlined into the evalplus driver, imported by the harness.
"""

_SAFE_INT = 1 << 53


def _numeric_digest(items):
    """sha256 of a numeric sequence as doubles, or None when that would not be exact.

    Value-equal sequences (ints, floats and bools mixed) give the same digest when every
    value is finite with magnitude below 2**53, where a double holds it exactly; -0.0 is
    folded into 0.0. C-speed, for outputs of millions of numbers."""
    import hashlib
    import math
    import sys
    from array import array

    try:
        arr = array("d", items)
    except (OverflowError, TypeError, ValueError):
        return None
    np = sys.modules.get("numpy")  # vectorised checks when numpy is loaded; same bytes either way
    if np is not None:
        x = np.frombuffer(arr, dtype=np.float64)
        if x.size and not (np.isfinite(x).all() and np.abs(x).max() < _SAFE_INT):
            return None
        return hashlib.sha256((x + 0.0).tobytes()).hexdigest()
    try:
        if not math.isfinite(math.fsum(arr)):
            return None
        if arr and (max(arr) >= _SAFE_INT or min(arr) <= -_SAFE_INT):
            return None
    except (OverflowError, ValueError):
        return None
    if 0.0 in arr:
        arr = array("d", [v + 0.0 for v in arr])
    return hashlib.sha256(arr.tobytes()).hexdigest()


def _canon_int(k):
    return k if -_SAFE_INT < k < _SAFE_INT else ["I", hex(k)]


def _canon_num(v, exotic):
    """A number in canonical form: equal values, equal forms (nan is exotic)."""
    import math

    t = type(v)
    if t is bool:
        return int(v)
    if t is int:
        return _canon_int(v)
    if t is float:
        if v != v:
            exotic.append(1)
            return ["X"]
        if math.isinf(v):
            return ["F", "inf" if v > 0 else "-inf"]
        return _canon_int(int(v)) if v.is_integer() else v
    if t is dict and len(v) == 1 and "I" in v:
        return _canon_int(int(v["I"], 16))
    if t is dict and len(v) == 1 and "f" in v:
        return _canon_num(float(v["f"]), exotic)
    raise ValueError("bad number")


def _canon_key(form):
    import json

    return json.dumps(form, separators=(",", ":"))


def _canon_sub(body, c, pairs, cnum):
    """A ``SUB`` node canonicalised as its builtin base (its equality is the base's)."""
    base, _name, inner = body
    if base in ("int", "float"):
        return cnum(inner)
    if base == "str":
        return inner
    if base == "complex":
        return c(inner)
    if base == "bytes":
        return ["B", inner]
    if base in ("tuple", "list"):
        form = c(inner)
        if base == "list":
            return form
        return ["T" if form[0] == "L" else "TN", form[1]]
    if base == "dict":
        return ["D", pairs(inner)]
    return ["S", sorted((c(v) for v in inner), key=_canon_key)]


def canon_digest(tree):
    """(sha256 of a value-canonical form of ``tree``, exotic).

    For plain data, equal digests imply equal values and equal values give equal
    digests: numbers are canonical by value (``True``, ``1``, ``1.0`` and ``1+0j`` agree),
    dicts and sets by sorted content. ``exotic`` marks trees where that does not hold
    (nan, opaque objects, numpy arrays, ordered containers, non-integral Decimal and
    Fraction): they are never judged equal by digest. Used for outputs too large to
    send whole across the sandbox boundary.
    """
    exotic: list[int] = []
    key = _canon_key

    def cnum(v):
        return _canon_num(v, exotic)

    def pairs(body):
        return sorted(([c(k), c(v)] for k, v in body), key=lambda kv: key(kv[0]))

    def c(t):
        tt = type(t)
        if t is None or tt is str:
            return t
        if tt in (bool, int, float):
            return cnum(t)
        if tt is list:
            if len(t) > 32:
                digest = _numeric_digest(t)  # fails fast on the first non-number
                if digest is not None:
                    return ["N", digest]
                if set(map(type, t)) == {str}:
                    return ["L", t]
            return ["L", [c(v) for v in t]]
        ((tag, body),) = t.items()
        if tag == "T":
            inner = c(body)
            return ["T" if inner[0] == "L" else "TN", inner[1]]
        if tag == "D":
            return ["D", pairs(body)]
        if tag in ("S", "FS"):
            return ["S", sorted((c(v) for v in body), key=key)]
        if tag in ("I", "f"):
            return cnum(t)
        if tag == "C":
            re_, im = cnum(body[0]), cnum(body[1])
            return re_ if im == 0 else ["C", re_, im]
        if tag in ("B", "BA"):
            return ["B", body]
        if tag == "NS":
            return c(body[1])
        if tag == "Dec":
            import decimal

            d = decimal.Decimal(str(body))
            if d.is_finite() and d == d.to_integral_value():
                return _canon_int(int(d))
        elif tag == "Fr" and cnum(body[1]) == 1:
            return cnum(body[0])
        elif tag == "SUB":
            return _canon_sub(body, c, pairs, cnum)
        exotic.append(1)
        return ["X"]

    try:
        form = c(tree)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return "", True
    return form_digest(form), bool(exotic)


def form_digest(form):
    import hashlib
    import json

    return hashlib.sha256(json.dumps(form, separators=(",", ":")).encode("utf-8")).hexdigest()


def numeric_sequence_digest(value):
    """``canon_digest(encode(value))`` for a long list/tuple of exact ints/floats/bools,
    straight from the value (skipping the encoder's passes), or None."""
    t = type(value)
    if (t is not list and t is not tuple) or len(value) <= 32:
        return None
    if not set(map(type, value)) <= {int, float, bool}:
        return None
    digest = _numeric_digest(value)
    if digest is None:
        return None
    return form_digest(["N" if t is list else "TN", digest])


def json_size_over(tree, limit):
    """Whether ``tree`` serialises to more than ``limit`` bytes of JSON, without
    serialising it (a lower bound walk that stops as soon as it knows)."""
    budget = [limit]

    def walk(x):
        t = type(x)
        if t is str:
            budget[0] -= len(x) + 2
        elif t is list:
            budget[0] -= len(x) + 1
            if budget[0] < 0:
                return
            for v in x:
                walk(v)
                if budget[0] < 0:
                    return
        elif t is dict:
            for k, v in x.items():
                budget[0] -= len(k) + 4
                walk(v)
                if budget[0] < 0:
                    return
        else:
            budget[0] -= 1 if t is not float else 3

    walk(tree)
    return budget[0] < 0
