"""A tagged JSON codec for values crossing the sandbox boundary (stdlib only).

Why: an untrusted program's outputs must be judged in the trusted harness, never by
the program's own ``__eq__``. The sandboxed driver turns each output into plain JSON
(``encode``); the harness rebuilds ordinary Python values from it (``decode``) and
compares them there. Only exact builtin and a few stdlib types are rebuilt as
themselves; anything else becomes an ``Opaque`` marker that never compares equal, so
an object whose ``__eq__`` always answers True cannot pass.

The same source also carries trusted benchmark inputs into the sandbox (tuples, sets,
complex numbers and big ints survive, which plain JSON would lose).

This module imports nothing outside the standard library and reads no global of
``restrl_eval``: its source text is inlined into the sandbox driver
(``_evalplus_driver.py``), where the package cannot be imported.

Format: ``None``/bools/str/ints below 2**53 and finite floats are plain JSON; a list is
a JSON array; every other value is a one-key object ``{tag: body}``:
``T`` tuple, ``D`` dict (list of pairs), ``S`` set, ``FS`` frozenset, ``I`` big int
(hex), ``f`` non-finite float, ``C`` complex, ``B`` bytes (hex), ``BA`` bytearray,
``Dec`` Decimal, ``Fr`` Fraction, ``OD`` OrderedDict, ``CN`` Counter, ``DQ`` deque,
``SUB`` [base tag, type name, base value] for a subclass of a builtin that keeps the
builtin's equality, ``NP``/``NS`` numpy arrays/scalars of numeric dtypes, ``IT``
a materialised iterator (only when asked), ``O`` opaque (type name).
"""

_MAX_DEPTH = 2000
_SAFE_INT = 1 << 53


def make_encoder(materialize_iterators=False, _builtins=None):
    """Return ``encode(value) -> JSON-able``.

    References to builtins are captured here, when the encoder is made, so that a
    program that later patches ``builtins`` or ``collections`` cannot change how its
    outputs are encoded.
    """
    import builtins as _b
    import collections as _c
    import decimal as _d
    import fractions as _fr
    import math as _m
    import sys as _s

    b = _builtins or _b
    _type, _isinstance, _len = b.type, b.isinstance, b.len
    _int, _float, _str, _bytes, _list, _tuple, _dict = b.int, b.float, b.str, b.bytes, b.list, b.tuple, b.dict
    _set, _frozenset, _complex, _bytearray, _bool = b.set, b.frozenset, b.complex, b.bytearray, b.bool
    _iter, _hex = b.iter, b.hex
    _isfinite, _fsum = _m.isfinite, _m.fsum
    _OD, _CN, _DQ = _c.OrderedDict, _c.Counter, _c.deque
    _Dec, _Frac = _d.Decimal, _fr.Fraction
    _modules = _s.modules
    int_int, float_float, str_str = _int.__int__, _float.__float__, _str.__str__
    tuple_iter, list_iter, dict_items = _tuple.__iter__, _list.__iter__, _dict.items
    set_iter, fset_iter = _set.__iter__, _frozenset.__iter__
    bytes_hex, complex_real, complex_imag = _bytes.hex, _complex.real.__get__, _complex.imag.__get__
    eq_slots = ("__eq__", "__ne__", "__hash__", "__getattribute__")
    bases = ((_bool, None), (_int, "int"), (_float, "float"), (_complex, "complex"), (_str, "str"),
             (_bytes, "bytes"), (_tuple, "tuple"), (_list, "list"), (_dict, "dict"),
             (_set, "set"), (_frozenset, "frozenset"))

    def opaque(x):
        try:
            name = _str(_type(x).__name__)[:80]
        except BaseException:
            name = "?"
        return {"O": name}

    def enc_float(x):
        if _isfinite(x):
            return x
        return {"f": "nan" if x != x else ("inf" if x > 0 else "-inf")}

    def enc_int(x):
        if -_SAFE_INT < x < _SAFE_INT:
            return x
        return {"I": _hex(x)}

    def plain_base(x, t):
        """The builtin base of a subclass whose equality is the builtin's, else None."""
        if _type(t) is not _type:  # a custom metaclass could fake the MRO
            return None
        for base, tag in bases:
            if _isinstance(x, base):
                if tag is None:
                    return None
                for klass in t.__mro__:
                    if klass is base:
                        return base, tag
                    kd = klass.__dict__
                    for slot in eq_slots:
                        if slot in kd:
                            return None
                return None
        return None

    int_type, float_type, str_type = _int, _float, _str
    fast_ok = ({int_type}, {str_type}, {float_type}, {int_type, float_type})
    _set_of, _map, _min, _max = _set, b.map, b.min, b.max

    def homogeneous(items):
        """``items`` itself when it is already valid JSON for the codec (C-speed checks)."""
        types = _set_of(_map(_type, items))
        if types not in fast_ok:
            return None
        try:
            if float_type in types and not _isfinite(_fsum(items)):
                return None  # a nan or an infinity (or a sum past the float range)
            if int_type in types and not (-_SAFE_INT < _min(items) and _max(items) < _SAFE_INT):
                return None
        except (OverflowError, TypeError, ValueError):
            return None
        return items

    def enc(x, depth):
        if depth > _MAX_DEPTH:
            raise RecursionError("output nested too deeply")
        t = _type(x)
        if x is None or t is _bool or t is _str:
            return x
        if t is _int:
            return enc_int(x)
        if t is _float:
            return enc_float(x)
        d = depth + 1
        if t is _list:
            if _len(x) > 32:
                same = homogeneous(x)
                if same is not None:
                    return same  # already plain JSON: no copy (nothing runs before it is sent)
            return [enc(v, d) for v in list_iter(x)]
        if t is _tuple:
            if _len(x) > 32:
                same = homogeneous(x)
                if same is not None:
                    return {"T": _list(same)}
            return {"T": [enc(v, d) for v in tuple_iter(x)]}
        if t is _dict:
            return {"D": [[enc(k, d), enc(v, d)] for k, v in dict_items(x)]}
        if t is _set:
            return {"S": [enc(v, d) for v in set_iter(x)]}
        if t is _frozenset:
            return {"FS": [enc(v, d) for v in fset_iter(x)]}
        if t is _complex:
            return {"C": [enc_float(complex_real(x)), enc_float(complex_imag(x))]}
        if t is _bytes:
            return {"B": bytes_hex(x)}
        if t is _bytearray:
            return {"BA": bytes_hex(_bytes(x))}
        if t is _Dec:
            return {"Dec": _str(x)}
        if t is _Frac:
            return {"Fr": [enc_int(x.numerator), enc_int(x.denominator)]}
        if t is _OD:
            return {"OD": [[enc(k, d), enc(v, d)] for k, v in dict_items(x)]}
        if t is _CN:
            return {"CN": [[enc(k, d), enc(v, d)] for k, v in dict_items(x)]}
        if t is _DQ:
            return {"DQ": [enc(v, d) for v in _DQ.__iter__(x)]}
        np = _modules.get("numpy")
        if np is not None:
            if t is np.ndarray:
                if x.dtype.kind in "biufc":
                    return {"NP": [_str(x.dtype.str), [_int(n) for n in x.shape],
                                   [enc(v, d) for v in x.ravel().tolist()]]}
                return opaque(x)
            if _isinstance(x, np.generic) and x.dtype.kind in "biufc":
                return {"NS": [_str(x.dtype.str), enc(x.item(), d)]}
        base = plain_base(x, t)
        if base is not None:
            b_type, tag = base
            if tag == "int":
                inner = enc_int(int_int(x))
            elif tag == "float":
                inner = enc_float(float_float(x))
            elif tag == "str":
                inner = str_str(x)
            elif tag == "complex":
                inner = enc(_complex.__complex__(x), d)
            elif tag == "bytes":
                inner = bytes_hex(x)
            elif tag == "tuple":
                inner = [enc(v, d) for v in tuple_iter(x)]
            elif tag == "list":
                inner = [enc(v, d) for v in list_iter(x)]
            elif tag == "dict":
                inner = [[enc(k, d), enc(v, d)] for k, v in dict_items(x)]
            elif tag == "set":
                inner = [enc(v, d) for v in set_iter(x)]
            else:
                inner = [enc(v, d) for v in fset_iter(x)]
            return {"SUB": [tag, _str(t.__name__)[:80], inner]}
        if materialize_iterators:
            try:
                it = _iter(x)
            except BaseException:
                return opaque(x)
            return {"IT": [enc(v, d) for v in it]}
        return opaque(x)

    def encode(x):
        return enc(x, 0)

    return encode


class Opaque:
    """An output the harness cannot rebuild faithfully. Never equal to anything."""

    __slots__ = ("type_name",)

    def __init__(self, type_name="?"):
        self.type_name = type_name

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    __hash__ = object.__hash__

    def __repr__(self):
        return "<opaque %s>" % self.type_name


class OpaqueIterable(Opaque):
    """A materialised iterator: unequal to everything, but iterable (``set(out)``)."""

    __slots__ = ("items",)

    def __init__(self, items):
        Opaque.__init__(self, "iterator")
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


class DecodeError(ValueError):
    """The encoded tree is malformed (a forged or truncated message)."""


_NP_KINDS = "biufc"


def decode(tree):
    """Rebuild a value from ``encode``'s output. Only trusted types are constructed."""
    import collections
    import decimal
    import fractions

    sub_classes = {}

    def sub_class(base):
        # one fresh class per base per decoded value: equality is the builtin's, and
        # ``type(out) == type(exp)`` is False against a plain builtin, as it was in the sandbox
        if base not in sub_classes:
            sub_classes[base] = type("Sub" + base.__name__, (base,), {})
        return sub_classes[base]

    def num(v):
        if type(v) is dict and "I" in v:
            return int(v["I"], 16)
        if type(v) is dict and "f" in v:
            return float(v["f"])
        if type(v) in (int, float) or type(v) is bool:
            return v
        raise DecodeError("bad number")

    plain = (int, float, str, bool, type(None))

    def dec(x):
        t = type(x)
        if x is None or t is bool or t is str or t is int or t is float:
            return x
        if t is list:
            if len(x) > 16 and set(map(type, x)).issubset(plain):
                return list(x)
            return [dec(v) for v in x]
        if t is not dict or len(x) != 1:
            raise DecodeError("bad node %r" % (t,))
        ((tag, body),) = x.items()
        if tag == "T":
            return tuple(dec(v) for v in body)
        if tag == "D":
            return {dec(k): dec(v) for k, v in body}
        if tag == "S":
            return {dec(v) for v in body}
        if tag == "FS":
            return frozenset(dec(v) for v in body)
        if tag == "I" or tag == "f":
            return num(x)
        if tag == "C":
            return complex(num(body[0]), num(body[1]))
        if tag == "B":
            return bytes.fromhex(body)
        if tag == "BA":
            return bytearray.fromhex(body)
        if tag == "Dec":
            return decimal.Decimal(str(body))
        if tag == "Fr":
            return fractions.Fraction(num(body[0]), num(body[1]))
        if tag == "OD":
            return collections.OrderedDict((dec(k), dec(v)) for k, v in body)
        if tag == "CN":
            return collections.Counter({dec(k): dec(v) for k, v in body})
        if tag == "DQ":
            return collections.deque(dec(v) for v in body)
        if tag == "SUB":
            base_tag, _name, inner = body
            base = {"int": int, "float": float, "complex": complex, "str": str, "bytes": bytes,
                    "tuple": tuple, "list": list, "dict": dict, "set": set,
                    "frozenset": frozenset}.get(base_tag)
            if base is None:
                raise DecodeError("bad SUB base")
            if base is int or base is float:
                value = num(inner)
            elif base is str:
                value = str(inner)
            elif base is complex:
                value = dec(inner)
            elif base is bytes:
                value = bytes.fromhex(inner)
            elif base is dict:
                value = [(dec(k), dec(v)) for k, v in inner]
            else:
                value = [dec(v) for v in inner]
            return sub_class(base)(value)
        if tag == "NP" or tag == "NS":
            import numpy as np

            dtype = np.dtype(str(body[0]))
            if dtype.kind not in _NP_KINDS:
                raise DecodeError("bad numpy dtype")
            if tag == "NS":
                return dtype.type(dec(body[1]))
            shape = tuple(int(n) for n in body[1])
            return np.array([dec(v) for v in body[2]], dtype=dtype).reshape(shape)
        if tag == "IT":
            return OpaqueIterable([dec(v) for v in body])
        if tag == "O":
            return Opaque(str(body))
        raise DecodeError("unknown tag %r" % (tag,))

    try:
        return dec(tree)
    except DecodeError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        raise DecodeError("%s: %s" % (type(exc).__name__, exc)) from None


def is_clean(tree):
    """True when equal trees imply equal values: no nan, no opaque, no numpy, no Decimal NaN.

    The harness uses it for a fast path: if an output's tree equals a clean expected
    tree (Python ``==`` on the JSON structures), the decoded values are equal too.
    """
    t = type(tree)
    if t is list:
        return all(is_clean(v) for v in tree)
    if t is not dict:
        return True
    ((tag, body),) = tree.items()
    if tag in ("O", "IT", "NP", "NS", "f"):
        return False
    if tag == "Dec":
        return "n" not in str(body).lower()  # NaN / sNaN
    if tag in ("I", "B", "BA"):
        return True
    if tag == "C":
        return all(type(v) is not dict for v in body)
    if tag == "SUB":
        return is_clean(body[2]) if body[0] != "float" else type(body[2]) is not dict
    return is_clean(body)


def _numeric_digest(items):
    """sha256 of a numeric sequence as doubles, or None when that would not be exact.

    Value-equal sequences (ints, floats and bools mixed) give the same digest when every
    value is finite with magnitude below 2**53, where a double holds it exactly; -0.0 is
    folded into 0.0. C-speed, for outputs of millions of numbers."""
    import hashlib
    import math
    from array import array

    import sys

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


def canon_digest(tree):
    """(sha256 of a value-canonical form of ``tree``, exotic).

    For plain data, equal digests imply equal values and equal values give equal
    digests: numbers are canonical by value (``True``, ``1``, ``1.0`` and ``1+0j`` agree),
    dicts and sets by sorted content. ``exotic`` marks trees where that does not hold
    (nan, opaque objects, numpy arrays, ordered containers, non-integral Decimal and
    Fraction): they are never judged equal by digest. Used for outputs too large to
    send whole across the sandbox boundary.
    """
    import json
    import math

    exotic = []

    def cint(k):
        return k if -_SAFE_INT < k < _SAFE_INT else ["I", hex(k)]

    def cnum(v):
        t = type(v)
        if t is bool:
            return int(v)
        if t is int:
            return cint(v)
        if t is float:
            if v != v:
                exotic.append(1)
                return ["X"]
            if math.isinf(v):
                return ["F", "inf" if v > 0 else "-inf"]
            return cint(int(v)) if v.is_integer() else v
        if t is dict and len(v) == 1 and "I" in v:
            return cint(int(v["I"], 16))
        if t is dict and len(v) == 1 and "f" in v:
            return cnum(float(v["f"]))
        raise ValueError("bad number")

    def key(c):
        return json.dumps(c, separators=(",", ":"))

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
                return cint(int(d))
        elif tag == "Fr" and cnum(body[1]) == 1:
            return cnum(body[0])
        elif tag == "SUB":
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
            return ["S", sorted((c(v) for v in inner), key=key)]
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
