"""Pure parts of the HumanEval+/MBPP+ benchmark: codec, verdict rules, inputs, sanitize,
pass@k. No sandbox needed; each case pins one evalplus 0.3.1 behaviour or one way an
untrusted output must not pass."""
from __future__ import annotations

import collections
import math
from fractions import Fraction

import numpy as np
import pytest

from restrl_eval.benchmarks.evalplus.data import mbpp_failed_inputs_for_json, mbpp_inputs
from restrl_eval.benchmarks.evalplus.oracle import FAIL, PASS, TIMEOUT, ExpectedPhase, compare, judge_phase
from restrl_eval.benchmarks.sandbox.codec import (
    DecodeError,
    Opaque,
    canon_digest,
    decode,
    is_clean,
    make_encoder,
    numeric_sequence_digest,
)
from restrl_eval.benchmarks.evalplus.sanitize import code_extract, sanitize
from restrl_eval.report.passk import estimate_pass_at_k, ks_for, pass_at_k

encode = make_encoder()


# -- codec -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2**53, -(2**200), 1.5, -0.0, math.inf, -math.inf, 1e308, "héllo\ud800", b"\x00\xff",
    bytearray(b"ab"), 3 + 4j, [1, [2, (3,)]], (), {"a": [1], 2: {3: 4}}, {1, 2}, frozenset({(1, 2)}),
    {}, collections.OrderedDict(b=1, a=2), collections.Counter("hello"), collections.deque([1, 2]),
    Fraction(1, 3), list(range(100)), [0.5] * 50, tuple(range(40)), ["x"] * 40,
])
def test_codec_round_trip_keeps_value_and_type(value):
    back = decode(encode(value))
    assert back == value and type(back) is type(value)


def test_codec_nan_round_trips_but_never_equals():
    back = decode(encode(float("nan")))
    assert math.isnan(back) and back != back


def test_always_equal_object_becomes_opaque_and_never_equal():
    class Liar:
        def __eq__(self, other):
            return True

    class LyingInt(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    for v in (Liar(), LyingInt(3), [Liar()], {"k": LyingInt(1)}):
        back = decode(encode(v))
        assert back != v and not (back == decode(encode(3)))
    assert isinstance(decode(encode(Liar())), Opaque)


def test_subclass_without_own_equality_keeps_value_but_not_type():
    Point = collections.namedtuple("Point", "x y")
    back = decode(encode(Point(1, 2)))
    assert back == (1, 2) and type(back) is not tuple


def test_patched_builtins_after_encoder_creation_do_not_change_encoding():
    import builtins

    enc = make_encoder()
    saved = builtins.isinstance
    try:
        builtins.isinstance = lambda *a: True
        assert enc([1, (2,)]) == [1, {"T": [2]}]
    finally:
        builtins.isinstance = saved


def test_numpy_values_round_trip():
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    back = decode(encode(arr))
    assert back.dtype == arr.dtype and (back == arr).all()
    assert decode(encode(np.float64(2.5))) == 2.5 and isinstance(decode(encode(np.float64(2.5))), np.float64)


@pytest.mark.parametrize("tree", [{"Z": 1}, {"T": 1, "D": 2}, {"NP": ["O", [1], [1]]}, {"SUB": ["evil", "x", 1]}])
def test_decode_rejects_forged_trees(tree):
    with pytest.raises(DecodeError):
        decode(tree)


def test_canon_digest_equal_values_equal_digests():
    pairs = [([1, 2, 3], [1.0, 2.0, 3.0]), (list(range(50)), [float(i) for i in range(50)]),
             ({1: "a", 2: "b"}, {2: "b", 1: "a"}), ({3, 1, 2}, frozenset({1, 2, 3})), (True, 1), (1 + 0j, 1)]
    for a, b in pairs:
        assert canon_digest(encode(a)) == canon_digest(encode(b))
    assert canon_digest(encode([1, 2])) != canon_digest(encode((1, 2)))
    assert canon_digest(encode(list(range(50)))) != canon_digest(encode(list(range(1, 51))))
    assert canon_digest(encode(float("nan")))[1] is True  # nan never matches by digest
    assert numeric_sequence_digest(list(range(100))) == canon_digest(encode(list(range(100))))[0]


def test_is_clean():
    assert is_clean(encode([1, "a", (2.5,)])) and not is_clean(encode([float("nan")]))
    assert not is_clean(encode(object()))


# -- evalplus' comparison rules ------------------------------------------------------------------
def test_exact_numeric_equality_across_types():
    assert compare("humaneval", "f", 3, 3.0, [], 0)[0] == PASS
    assert compare("humaneval", "f", True, 1, [], 0)[0] == PASS


def test_atol_becomes_sticky_after_a_float_expected_output():
    state = ExpectedPhase(encode_all([1.0, 10**9]))
    outputs = {0: ("v", encode(1.0 + 5e-7)), 1: ("v", encode(10**9 + 1))}
    # evalplus: atol becomes 1e-6 at input 0 and stays, so 10**9+1 ~ 10**9 within rtol 1e-7
    assert judge_phase("humaneval", "f", 0, [[0], [1]], state, outputs, "done").status == PASS
    assert judge_phase("humaneval", "f", 0, [[1]], ExpectedPhase(encode_all([10**9])),
                       {0: ("v", encode(10**9 + 1))}, "done").status == FAIL


def test_tolerance_path_needs_same_type_and_length():
    assert compare("humaneval", "f", [1.0, 2.0000001], [1.0, 2.0], [], 1e-6)[0] == PASS
    assert compare("humaneval", "f", (1.0, 2.0000001), [1.0, 2.0], [], 1e-6)[0] == FAIL
    assert compare("humaneval", "f", [1.0], [1.0, 2.0], [], 1e-6)[0] == FAIL
    assert compare("humaneval", "f", 1.001, 1.0, [], 1e-6)[0] == FAIL


def test_mbpp_special_oracles():
    assert compare("mbpp", "similar_elements", (5, 4), (4, 5), [], 0)[0] == PASS
    assert compare("mbpp", "similar_elements", 5, (5,), [], 0)[0] == FAIL
    assert compare("mbpp", "check_str", Opaque("re.Match"), True, [], 0)[0] == PASS  # any non-None object
    assert compare("mbpp", "check_str", None, True, [], 0)[0] == FAIL
    assert compare("mbpp", "are_equivalent", "anything", False, [], 0)[0] == PASS
    assert compare("mbpp", "sum_div", 0, 7, [], 0)[0] == PASS
    assert compare("mbpp", "digit_distance_nums", 7, 999, [123, 256], 0)[0] == PASS
    assert compare("mbpp", "surface_Area", 35, 0, [3, 4], 1e-4)[0] == PASS


def test_find_zero_never_passes_in_evalplus_031():
    # a correct root is "uncounted": the phase ends with fewer counted inputs -> fail
    assert compare("humaneval", "find_zero", 1.0, 0.0, [[-1, 1]], 1e-4)[0] == "uncounted"
    result = judge_phase("humaneval", "find_zero", 1e-4, [[[-1, 1]]], ExpectedPhase([1.0]),
                         {0: ("v", 1.0)}, "done")
    assert result.status == FAIL and result.failed_input_index() is None  # evalplus reports no failing input


def test_phase_fast_check_and_timeouts():
    exp = ExpectedPhase(encode_all([1, 2, 3]))
    inputs = [[0], [1], [2]]
    ok = {0: ("v", 1), 1: ("v", 2), 2: ("v", 3)}
    assert judge_phase("mbpp", "f", 0, inputs, exp, ok, "done").status == PASS
    wrong_then_killed = {0: ("v", 1), 1: ("v", 5)}
    r = judge_phase("mbpp", "f", 0, inputs, exp, wrong_then_killed, None)
    assert r.status == FAIL and r.failed_input_index() == 1  # evalplus stops at the wrong output
    r = judge_phase("mbpp", "f", 0, inputs, exp, {0: ("v", 1)}, None)
    assert r.status == TIMEOUT and r.failed_input_index() == 0  # evalplus' last processed input
    assert judge_phase("mbpp", "f", 0, inputs, exp, {0: ("x", "ValueError")}, "error").status == FAIL
    assert judge_phase("mbpp", "f", 0, inputs, exp, {}, "load_error").status == FAIL
    assert judge_phase("mbpp", "f", 0, inputs, exp, {0: ("v", 1)}, "done").status == FAIL  # lost output
    assert judge_phase("mbpp", "f", 0, inputs, exp, ok, "killed").status == TIMEOUT


def test_large_outputs_judged_by_digest():
    big = list(range(100_000))
    exp = ExpectedPhase([None], {0: {"h": canon_digest(encode(big))[0], "e": False, "f": False}})
    same = ("h", (numeric_sequence_digest([float(v) for v in big]), False))
    other = ("h", (numeric_sequence_digest(big[::-1]), False))
    assert judge_phase("humaneval", "f", 0, [[1]], exp, {0: same}, "done").status == PASS
    assert judge_phase("humaneval", "f", 0, [[1]], exp, {0: other}, "done").status == FAIL
    assert judge_phase("humaneval", "f", 0, [[1]], exp, {0: ("v", [1, 2])}, "done").status == FAIL


def encode_all(values):
    return [encode(v) for v in values]


# -- MBPP+ inputs ------------------------------------------------------------------------------
def test_mbpp_inputs_are_rebuilt_like_evalplus():
    assert mbpp_inputs("Mbpp/124", [[3, "(1+2j)"]]) == [(3.0, 1 + 2j)]
    assert mbpp_inputs("Mbpp/115", [[[[1, 2], []]]]) == [[[{1, 2}, {}]]]
    assert mbpp_inputs("Mbpp/2", [[[3, 4], [5, 4]]]) == [[(3, 4), (5, 4)]]
    assert mbpp_inputs("Mbpp/580", [[[1, [2, 3]], 4]]) == [((1, (2, 3)), 4)]
    assert mbpp_inputs("Mbpp/3", [[5]]) == [[5]]
    assert mbpp_failed_inputs_for_json("Mbpp/252", [[1 + 2j]]) == [["(1+2j)"]]


# -- sanitize ----------------------------------------------------------------------------------
def test_sanitize_extracts_the_code_block_and_its_dependencies():
    text = ("Sure! Here it is:\n```python\nimport math\nfrom __future__ import annotations\n\n"
            "def helper(x):\n    return math.sqrt(x)\n\n@cache\ndef decorated(x):\n    return x\n\n"
            "def unused():\n    return 0\n\nLIMIT = 10\n\ndef solve(x):\n    return helper(x) + LIMIT\n\n"
            "if __name__ == '__main__':\n    print(solve(4))\n```\nThis computes the root.")
    out = sanitize(text, "solve")
    assert out == ("import math\ndef helper(x):\n    return math.sqrt(x)\nLIMIT = 10\n"
                   "def solve(x):\n    return helper(x) + LIMIT")


def test_sanitize_falls_back_to_the_longest_parsable_block():
    assert sanitize("no code here\nprint(1)\nprint(2)\nmore prose", "f") == "print(1)\nprint(2)"
    assert code_extract("just one line") == "just one line"


def test_functions_without_return_are_dropped_and_first_definition_wins():
    code = "def f(x):\n    print(x)\n\ndef f(x):\n    return 1\n\ndef f(x):\n    return 2\n"
    assert sanitize(code, "f") == "def f(x):\n    return 1"


# -- pass@k ------------------------------------------------------------------------------------
def test_pass_at_k_matches_the_closed_form():
    for n, c, k in [(10, 1, 1), (10, 3, 5), (20, 0, 10), (5, 5, 2), (100, 37, 10)]:
        want = 1.0 - math.comb(n - c, k) / math.comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)
    assert list(estimate_pass_at_k([1, 1], [1, 0], 1)) == [1.0, 0.0]
    assert ks_for([10, 100]) == [1, 10] and ks_for([1]) == [1]
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_partial_runs_are_undecided_unless_something_failed():
    from restrl_eval.benchmarks.evalplus.oracle import UNDECIDED

    exp = ExpectedPhase(encode_all([1, 2]))
    assert judge_phase("mbpp", "f", 0, [[0], [1]], exp, {0: ("v", 1), 1: ("v", 2)}, "partial").status == UNDECIDED
    assert judge_phase("mbpp", "f", 0, [[0], [1]], exp, {0: ("v", 1), 1: ("v", 3)}, "partial").status == FAIL
    assert judge_phase("mbpp", "f", 0, [[0], [1]], exp, {0: ("v", 1)}, "partial").status == FAIL  # lost output


def test_memory_wall_reproduces_evalplus_running_out_of_memory():
    from restrl_eval.benchmarks.evalplus.data import Truth, memory_wall

    def truth(plus_mem):
        n = len(plus_mem)
        return Truth([1], [0.0], [1] * n, [0.0] * n, base_mem=[100], plus_mem=plus_mem)

    mbpp = "ee43ecabebf20deef4bb776a405ac5b1"  # evalplus' main process holds 2.1 GB for MBPP+
    assert memory_wall(mbpp, truth([10**6, 10**6]), "plus") is None
    assert memory_wall(mbpp, truth([10**6, 2 * 10**8, 11 * 10**8]), "plus") == 2
    assert memory_wall(mbpp, truth([11 * 10**8]), "base") is None
