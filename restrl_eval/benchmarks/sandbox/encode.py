"""Sandbox side of the value codec: ``make_encoder`` turns an output into tagged JSON.

Standalone text (stdlib only, no imports at module level, no restrl globals): inlined
into sandbox drivers by ``restrl_eval.benchmarks.sandbox.driver_source``. The format is
described in ``sandbox/README.md``; ``decode.py`` rebuilds values on the trusted side.
"""

_MAX_DEPTH = 2000
_SAFE_INT = 1 << 53


def _encoder_scalars(b):
    """(opaque, enc_float, enc_int), with the builtins they use captured now."""
    import math as _m

    _str, _type, _hex, _isfinite = b.str, b.type, b.hex, _m.isfinite

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

    return opaque, enc_float, enc_int


def _encoder_plain_base(b):
    _type, _isinstance = b.type, b.isinstance
    eq_slots = ("__eq__", "__ne__", "__hash__", "__getattribute__")
    bases = ((b.bool, None), (b.int, "int"), (b.float, "float"), (b.complex, "complex"), (b.str, "str"),
             (b.bytes, "bytes"), (b.tuple, "tuple"), (b.list, "list"), (b.dict, "dict"),
             (b.set, "set"), (b.frozenset, "frozenset"))

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

    return plain_base


def _encoder_homogeneous(b):
    import math as _m

    _type, _isfinite, _fsum = b.type, _m.isfinite, _m.fsum
    int_type, float_type, str_type = b.int, b.float, b.str
    fast_ok = ({int_type}, {str_type}, {float_type}, {int_type, float_type})
    _set_of, _map, _min, _max = b.set, b.map, b.min, b.max

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

    return homogeneous


def _encoder_sub(b, enc_int, enc_float):
    """``sub(x, t, tag, d, enc)``: a subclass of a builtin that keeps the builtin's equality."""
    _int, _float, _str, _bytes, _complex = b.int, b.float, b.str, b.bytes, b.complex
    int_int, float_float, str_str, bytes_hex = _int.__int__, _float.__float__, _str.__str__, _bytes.hex
    tuple_iter, list_iter, dict_items = b.tuple.__iter__, b.list.__iter__, b.dict.items
    set_iter, fset_iter = b.set.__iter__, b.frozenset.__iter__

    def sub(x, t, tag, d, enc):
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

    return sub


def _encoder_others(b, materialize_iterators, opaque, enc_float, enc_int):
    """``other(x, t, d, enc)``: every type but the exact JSON-like builtins."""
    import collections as _c
    import decimal as _d
    import fractions as _fr
    import sys as _s

    _str, _int, _bytes, _complex, _bytearray, _isinstance, _iter = (b.str, b.int, b.bytes, b.complex, b.bytearray,
                                                                     b.isinstance, b.iter)
    _OD, _CN, _DQ, _Dec, _Frac = _c.OrderedDict, _c.Counter, _c.deque, _d.Decimal, _fr.Fraction
    _modules, dict_items, bytes_hex = _s.modules, b.dict.items, _bytes.hex
    complex_real, complex_imag = _complex.real.__get__, _complex.imag.__get__
    plain_base, sub = _encoder_plain_base(b), _encoder_sub(b, enc_int, enc_float)

    def other(x, t, d, enc):
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
            return sub(x, t, base[1], d, enc)
        if materialize_iterators:
            try:
                it = _iter(x)
            except BaseException:
                return opaque(x)
            return {"IT": [enc(v, d) for v in it]}
        return opaque(x)

    return other


def make_encoder(materialize_iterators=False, _builtins=None):
    """Return ``encode(value) -> JSON-able``.

    References to builtins are captured here, when the encoder is made, so that a
    program that later patches ``builtins`` or ``collections`` cannot change how its
    outputs are encoded.
    """
    import builtins as _b

    b = _builtins or _b
    opaque, enc_float, enc_int = _encoder_scalars(b)
    homogeneous = _encoder_homogeneous(b)
    other = _encoder_others(b, materialize_iterators, opaque, enc_float, enc_int)
    _type, _len, _int, _float, _str, _bool = b.type, b.len, b.int, b.float, b.str, b.bool
    _list, _tuple, _dict, _set, _frozenset = b.list, b.tuple, b.dict, b.set, b.frozenset
    tuple_iter, list_iter, dict_items = _tuple.__iter__, _list.__iter__, _dict.items
    set_iter, fset_iter = _set.__iter__, _frozenset.__iter__

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
        return other(x, t, d, enc)

    def encode(x):
        return enc(x, 0)

    return encode
