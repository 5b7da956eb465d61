"""The APPS comparison rules, the value codec and the reference's program rewrite, one by
one (pure functions: no sandbox)."""
from __future__ import annotations

import collections
import math

import numpy as np
import pytest

from restrl_eval.benchmarks.apps import driver as drv
from restrl_eval.benchmarks.apps.compare import compare_call, compare_stdout, int_keys_args, int_keys_expected


# -- standard input: each rule of the cascade accepts what it should, and no more -------
@pytest.mark.parametrize("output, expected", [
    ("3\n", "3\n"),                      # rule 1: exact
    ("  3  \n\n", "3"),                  # rule 1: ends stripped
    ("1 2 \n3 4 \n", "1 2\n3 4\n"),      # rule 1: every line stripped
    ("Yes\n1 4 \n", "Yes\n1 4 "),        # real APPS expected outputs keep trailing blanks
    ("a\n\nb\n", "a\nb\n"),              # rule 4: empty output lines dropped
    ("2.3333333333\n", "2.333333\n"),    # rule 4: numpy.allclose
    ("1e3\n", "1000\n"),                 # rule 4: numbers, not text
    ("c\nb\na\n", "a\nb\nc\n"),          # rule 5: unordered set of lines
    ("2 1\n", "1 2\n"),                  # rule 5: unordered tokens within a line
    ("a\na\nb\n", "a\nb\n"),             # rule 5: repeated lines count once
    ("0.1234 2\n", "2 0.1231\n"),        # rule 5: tokens rounded to 3 decimals
    ("x\ny", ["x", "y"]),                # expected given as a list of lines
])
def test_stdout_accepts(output: str, expected: object) -> None:
    assert compare_stdout(output, expected)


@pytest.mark.parametrize("output, expected", [
    ("4\n", "3\n"),
    ("", "3\n"),
    ("YES\n", "Yes\n"),                  # case matters
    ("2.34\n", "2.333333\n"),            # beyond allclose and beyond 3-decimal rounding
    ("1 2 3\n", "1 2\n"),                # extra token
    ("a b\n", "ab\n"),
])
def test_stdout_rejects(output: str, expected: object) -> None:
    assert not compare_stdout(output, expected)


def test_stdout_nan_text_matches_exactly_but_not_as_numbers() -> None:
    assert compare_stdout("nan\n", "nan\n")         # rule 1 (text)
    assert not compare_stdout("nan\n", "nan\n7\n")  # no numeric rule can help
    assert compare_stdout("inf\n", "inf\n")


def test_stdout_blank_expected_line_needs_exact_text() -> None:
    # an expected line of blanks is kept by rule 3's filter, then stripped to '': no
    # output line can equal it in rules 3-5, only rules 1-2 can accept
    assert compare_stdout("a\n\nb", "a\n   \nb")
    assert not compare_stdout("b\na", "a\n   \nb")


def test_stdout_non_text_expected_never_passes() -> None:
    assert not compare_stdout("3\n", 3)
    assert not compare_stdout("3\n", [3])


# -- call-based ---------------------------------------------------------------------------
@pytest.mark.parametrize("output, expected", [
    (5, [5]),                            # APPS wraps expected values in a list
    (5, 5),
    ([1, 2], [[1, 2]]),
    ((1, 2), [[1, 2]]),                  # tuple -> list
    ([(1, 2), (3, 4)], [[[1, 2], [3, 4]]]),  # list of tuples -> list of lists
    (2, [2.0]),                          # Python ==
    (True, [1]),
    ({1: "a"}, {"1": "a"}),              # JSON's string keys turned back into ints
    ({1: "a"}, [{"1": "a"}]),
    (None, [None]),
])
def test_call_accepts(output: object, expected: object) -> None:
    assert compare_call(output, expected)


@pytest.mark.parametrize("output, expected", [
    (4, [5]),
    ("5", [5]),
    ({1, 2}, [[1, 2]]),                  # a set is not a list
    ([1, 2], [[2, 1]]),
    ({"1": "a"}, {"1": "a"}),            # the expected keys became ints
    (1.0000001, [1.0]),                  # no float tolerance for return values
    (drv.Opaque("x"), [5]),
])
def test_call_rejects(output: object, expected: object) -> None:
    assert not compare_call(output, expected)


def test_int_key_conversions() -> None:
    assert int_keys_expected({"1": 2}) == [{1: 2}]
    assert int_keys_expected({"a": 2}) == {"a": 2}       # not int keys: left alone
    assert int_keys_args([{"3": 1}, 2], keep_rest=False) == [{3: 1}]  # the reference drops the rest
    assert int_keys_args([{"3": 1}, 2], keep_rest=True) == [{3: 1}, 2]
    assert int_keys_args([1, 2], keep_rest=True) == [1, 2]


# -- codec ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 10 ** 5000, 1.5, -0.0, float("inf"), "héllo", b"\x00\xff",
    [1, [2, (3, 4)]], (1,), {1: "a", "b": [2]}, {1, 2}, frozenset({"x"}), {(1, 2): frozenset({3})},
], ids=lambda v: type(v).__name__)
def test_codec_round_trip(value: object) -> None:
    back = drv.decode(drv.encode(value))
    assert back == value and type(back) is type(value)


def test_codec_nan_and_numpy() -> None:
    assert math.isnan(drv.decode(drv.encode(float("nan"))))
    assert drv.decode(drv.encode(np.int64(7))) == 7 and type(drv.decode(drv.encode(np.int64(7)))) is int
    assert drv.decode(drv.encode(np.float32(0.5))) == 0.5
    assert drv.decode(drv.encode(np.bool_(True))) is True
    assert isinstance(drv.decode(drv.encode(np.array([1, 2]))), drv.Opaque)


def test_codec_subclasses() -> None:
    class Always(int):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = int.__hash__

    Point = collections.namedtuple("Point", "x y")
    assert drv.decode(drv.encode(Point(1, 2))) == (1, 2)
    assert drv.decode(drv.encode(collections.OrderedDict(a=1))) == {"a": 1}
    assert drv.decode(drv.encode(collections.Counter("aab"))) == {"a": 2, "b": 1}
    assert isinstance(drv.decode(drv.encode(Always(3))), drv.Opaque)  # its own __eq__ never decides


def test_codec_limits_and_malformed_trees() -> None:
    deep: list = []
    node = deep
    for _ in range(drv.MAX_DEPTH + 5):
        node.append([])
        node = node[0]
    assert "opaque" in str(drv.encode(deep))
    assert isinstance(drv.decode(["set", [["list", []]]]), drv.Opaque)  # unhashable member
    assert isinstance(drv.decode(["int", "zz"]), drv.Opaque)
    assert isinstance(drv.decode("nonsense"), drv.Opaque)
    o = drv.Opaque()
    assert o != o and not (o == o)


# -- the reference's rewrite of standard-input programs -----------------------------------
def test_wrap_stdin_program() -> None:
    src = "import sys\nfrom math import gcd\nn = int(input())\nimport os\nprint(n)\n"
    wrapped = drv.wrap_stdin_program(src)
    assert wrapped == ("import sys\nfrom math import gcd\n"
                       "stdin = sys.stdin\nstdout = sys.stdout\ndef code():\n"
                       "\tn = int(input())\n\timport os\n\tprint(n)\n\t\n")
    ns: dict = {}
    exec(compile(drv.PREAMBLE + wrapped, "x", "exec"), ns)
    assert callable(ns["code"])


def test_wrap_keeps_main_guard_inside_the_function() -> None:
    wrapped = drv.wrap_stdin_program('def main():\n    print(1)\nif __name__ == "__main__":\n    main()\n')
    assert wrapped.startswith("stdin = sys.stdin\nstdout = sys.stdout\ndef code():\n\tdef main():")
    assert '\tif __name__ == "__main__":' in wrapped
