"""Trusted side of the value codec: rebuild values from ``encode``'s JSON (``decode``).

Why: an untrusted program's outputs are judged in the harness, never by the program's
own ``__eq__``; only exact builtin and a few stdlib types are rebuilt as themselves,
anything else becomes an ``Opaque`` that never compares equal. Standalone text too: the
evalplus driver inlines it to decode the trusted inputs it is sent.
"""

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


def _decode_num(v):
    if type(v) is dict and "I" in v:
        return int(v["I"], 16)
    if type(v) is dict and "f" in v:
        return float(v["f"])
    if type(v) in (int, float) or type(v) is bool:
        return v
    raise DecodeError("bad number")


_SUB_BASES = {"int": int, "float": float, "complex": complex, "str": str, "bytes": bytes, "tuple": tuple,
              "list": list, "dict": dict, "set": set, "frozenset": frozenset}


def _decode_sub(body, dec, sub_class):
    """A ``SUB`` node: a subclass of a builtin that kept the builtin's equality."""
    base_tag, _name, inner = body
    base = _SUB_BASES.get(base_tag)
    if base is None:
        raise DecodeError("bad SUB base")
    if base is int or base is float:
        value = _decode_num(inner)
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


def _decode_numpy(tag, body, dec):
    import numpy as np

    dtype = np.dtype(str(body[0]))
    if dtype.kind not in _NP_KINDS:
        raise DecodeError("bad numpy dtype")
    if tag == "NS":
        return dtype.type(dec(body[1]))
    shape = tuple(int(n) for n in body[1])
    return np.array([dec(v) for v in body[2]], dtype=dtype).reshape(shape)


def _decode_other(tag, body, dec, sub_class):
    """The rarer one-key nodes ``{tag: body}`` (the common containers are decoded in ``dec``,
    so deep nesting costs the same stack as before)."""
    import collections
    import decimal
    import fractions

    num = _decode_num
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
        return _decode_sub(body, dec, sub_class)
    if tag == "NP" or tag == "NS":
        return _decode_numpy(tag, body, dec)
    if tag == "IT":
        return OpaqueIterable([dec(v) for v in body])
    if tag == "O":
        return Opaque(str(body))
    raise DecodeError("unknown tag %r" % (tag,))


def decode(tree):
    """Rebuild a value from ``encode``'s output. Only trusted types are constructed."""
    sub_classes = {}

    def sub_class(base):
        # one fresh class per base per decoded value: equality is the builtin's, and
        # ``type(out) == type(exp)`` is False against a plain builtin, as it was in the sandbox
        if base not in sub_classes:
            sub_classes[base] = type("Sub" + base.__name__, (base,), {})
        return sub_classes[base]

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
            return _decode_num(x)
        return _decode_other(tag, body, dec, sub_class)

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
