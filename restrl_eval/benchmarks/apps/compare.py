"""The APPS comparison rules, run in the trusted harness on a program's raw outputs.

Why a module of its own: these rules *are* the APPS metric (a program "passes" a test
when one of them accepts its output), and restrl must accept exactly what the reference
harness accepts — hendrycks/apps ``eval/testing_util.py``, which ReST-RL copies as
``verifiers/apps_utils.py``. That file interleaves the rules with process handling and
mutates its inputs; here they are restated as pure functions of (output, expected), in
the reference's order, so they can be tested one by one and shared by both
``apps_compat`` modes.

Standard-input problems (``compare_stdout``), on the program's stdout split into lines:
  1. whole text equal after stripping the ends (also with every line stripped);
  2. the output is one line equal to the expected text;
  3. the output lines equal the expected text's non-empty lines, stripped;
  4. the same after dropping empty output lines, or every line a number and all numbers
     close (``numpy.allclose``: rtol 1e-5, atol 1e-8);
  5. as unordered sets of lines, each an unordered set of whitespace-separated tokens;
     or the same with every token a number rounded to 3 decimals.
Call-based problems (``compare_call``): Python ``==`` on plain values, after the
reference's conversions (dict keys back to ints, tuples to lists, and the expected
value unwrapped from its one-element list).
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["compare_stdout", "compare_call", "int_keys_expected", "int_keys_args"]


def _lines_equal_when_stripped(lines: list[str], expected: str) -> bool:
    want = expected.strip()
    return "\n".join(lines).strip() == want or "\n".join(x.strip() for x in lines).strip() == want


def _all_close(output: list[str], expected: list[str]) -> bool:
    try:
        got = [float(x) for x in output]
        want = [float(x) for x in expected]
    except (ValueError, TypeError):
        return False
    return len(got) == len(want) and bool(np.allclose(got, want))


def _token_sets(lines: list[str]) -> list[set[str]]:
    return [set(tokens) for tokens in (line.split() for line in lines) if tokens]


def _rounded(sets: list[set[str]]) -> set[frozenset[float]] | None:
    try:
        return {frozenset(round(float(t), 3) for t in s) for s in sets}
    except (ValueError, TypeError, OverflowError):
        return None


def compare_stdout(output: str, expected: Any) -> bool:
    """Does the stdout text ``output`` pass against ``expected`` (a str, or a list of
    lines the reference joins with newlines)? See the module docstring for the rules."""
    if isinstance(expected, list):
        if not all(isinstance(x, str) for x in expected):
            return False  # the reference crashes on such a test: nothing passes
        expected = "\n".join(expected)
    if not isinstance(expected, str):
        return False
    lines = output.splitlines()
    # 1-2
    if _lines_equal_when_stripped(lines, expected) or lines == [expected]:
        return True
    # 3 (the filter looks at the raw lines, the comparison at the stripped ones)
    want = [x.strip() for x in expected.split("\n") if x]
    if lines == want:
        return True
    # 4
    lines = [x for x in lines if x]
    if lines == want or _all_close(lines, want):
        return True
    # 5 (sets of sets: line order, repeated lines and token order are all ignored;
    #    an expected line of blanks becomes an empty set no output line can match)
    want_sets = [set(x.split()) for x in want]
    got_sets = _token_sets(lines)
    if not lines and not want_sets:
        return True
    if {frozenset(s) for s in got_sets} == {frozenset(s) for s in want_sets}:
        return True
    got_r, want_r = _rounded(got_sets), _rounded(want_sets)
    return got_r is not None and want_r is not None and got_r == want_r


def _int_keyed(d: dict) -> dict:
    return {int(k): v for k, v in d.items()}


def int_keys_expected(expected: Any) -> Any:
    """JSON turned the expected dict's int keys into strings; the reference turns them
    back (and wraps the dict in a list) when every key is an int."""
    try:
        if isinstance(expected, dict):
            expected = [_int_keyed(expected)]
    except (ValueError, TypeError):
        pass
    try:
        if isinstance(expected[0], dict):
            expected = [_int_keyed(expected[0])]
    except (ValueError, TypeError, IndexError, KeyError):
        pass
    return expected


def int_keys_args(args: Any, keep_rest: bool) -> Any:
    """The same conversion for a dict first argument. The reference then calls the
    function with that dict alone (``keep_rest=False``); restrl keeps the remaining
    arguments (``keep_rest=True``)."""
    try:
        if isinstance(args[0], dict):
            converted = _int_keyed(args[0])
            return [converted, *args[1:]] if keep_rest else [converted]
    except (ValueError, TypeError, IndexError, KeyError):
        pass
    return args


def compare_call(output: Any, expected: Any) -> bool:
    """Does the returned value ``output`` (plain values, decoded in the harness) pass
    against ``expected`` (the test's JSON value)? The reference's rule, restated."""
    expected = int_keys_expected(expected)
    if isinstance(output, tuple):
        output = list(output)
    try:
        ok = output == expected
        if isinstance(expected, list) and expected:
            ok = ok or output == expected[0]
        try:
            if isinstance(output[0], tuple):
                ok = ok or [list(x) for x in output] == expected[0]
        except (TypeError, IndexError, KeyError):
            pass
    except RecursionError:
        return False
    return ok is True
