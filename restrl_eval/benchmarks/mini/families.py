"""Task families of the ``mini`` benchmarks: each draws one function-writing task.

Why these families: the benchmark exists so that a tiny policy, a value model and a
line-level search can all act on it on a laptop (see ``README.md`` here). Most solutions
are 3-6 lines whose FIRST lines carry the decisions (the accumulator's start value, the
loop's bounds, the branch's comparison and threshold), so a wrong early line dooms the
program and a value model has something to learn from partial programs. Specs use
phrasings whose boundaries differ ("from 3 to n inclusive" / "below n", "more than" /
"at least") and the hidden tests always probe those boundaries, so near-miss programs
earn partial reward. Few tasks are copyable one-liners; the ``examples`` family states
no constants at all: they must be inferred from the two doctest examples.

A family is a function ``draw(rng) -> Draft``. Expected outputs come from a plain Python
function of the family (trusted code), never from running the reference text; the tests
check that every reference text agrees with it, in the sandbox.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Draft", "FAMILIES", "DEFAULT_MIX"]

Args = tuple[Any, ...]


@dataclass(frozen=True)
class Draft:
    """One task before formatting: the spec, the reference bodies and the test inputs."""

    family: str
    difficulty: int  # 1 (copy the spec) .. 3 (multi-step or inferred from examples)
    name: str  # the entry point
    params: str  # the parameter list, e.g. "xs, n"
    spec: str  # the docstring's first paragraph
    solutions: tuple[str, ...]  # reference bodies (indented 4 spaces, each ending in "\n")
    func: Callable[..., Any]  # computes the expected output of one call
    examples: tuple[Args, ...]  # calls shown in the docstring
    inputs: tuple[Args, ...]  # hidden test calls


def _pick(rng: random.Random, *options: Any) -> Any:
    return options[rng.randrange(len(options))]


def _uniq(items: list[Args], limit: int = 6) -> tuple[Args, ...]:
    out: list[Args] = []
    for it in items:
        if it not in out:
            out.append(it)
    return tuple(out[:limit])


def _lines(*lines: str) -> str:
    return "".join("    " + ln + "\n" for ln in lines)


_CMP = (  # phrase, operator, python predicate
    ("greater than", ">", lambda v, t: v > t),
    ("at least", ">=", lambda v, t: v >= t),
    ("less than", "<", lambda v, t: v < t),
    ("at most", "<=", lambda v, t: v <= t),
)


def affine(rng: random.Random) -> Draft:
    a, b = rng.randint(2, 9), rng.randint(1, 20)
    name = _pick(rng, "scale", "transform", "adjust")
    sols = (_lines(f"return {a} * x + {b}"), _lines(f"y = {a} * x", f"y += {b}", "return y"))
    xs = [(rng.randint(-10, 30),) for _ in range(6)]
    return Draft("affine", 1, name, "x", f"Return {a} times x plus {b}.", sols,
                 lambda x: a * x + b, ((rng.randint(0, 9),), (rng.randint(10, 20),)), _uniq([(0,)] + xs))


def loop_sum(rng: random.Random) -> Draft:
    init, a, lo = rng.randint(0, 9), rng.randint(1, 5), rng.randint(0, 4)
    inclusive = rng.random() < 0.5
    stop, upto = ("n + 1", f"from {lo} to n inclusive") if inclusive else ("n", f"from {lo} up to but not including n")
    name = _pick(rng, "accumulate", "series_total", "weighted_sum")
    sols = (_lines(f"total = {init}", f"for i in range({lo}, {stop}):", f"    total += {a} * i", "return total"),
            _lines(f"return {init} + sum({a} * i for i in range({lo}, {stop}))"))
    end = 1 if inclusive else 0

    def f(n: int) -> int:
        return init + sum(a * i for i in range(lo, n + end))

    spec = f"Start from {init} and add {a} * i for every integer i {upto}. Return the total."
    hidden = [(lo - 1,), (lo,), (lo + 1,)] + [(rng.randint(lo + 2, lo + 12),) for _ in range(4)]
    return Draft("loop_sum", 2, name, "n", spec, sols, f, ((lo + 2,), (rng.randint(lo + 3, lo + 9),)), _uniq(hidden))


def count_mod(rng: random.Random) -> Draft:
    k = rng.randint(2, 7)
    r, lo = rng.randint(0, k - 1), rng.randint(0, 5)
    inclusive = rng.random() < 0.5
    stop, upto = ("n + 1", f"{lo} <= i <= n") if inclusive else ("n", f"{lo} <= i < n")
    name = _pick(rng, "count_hits", "count_matches", "tally")
    sols = (_lines("count = 0", f"for i in range({lo}, {stop}):", f"    if i % {k} == {r}:", "        count += 1",
                   "return count"),
            _lines(f"return sum(1 for i in range({lo}, {stop}) if i % {k} == {r})"))
    end = 1 if inclusive else 0

    def f(n: int) -> int:
        return sum(1 for i in range(lo, n + end) if i % k == r)

    spec = f"Count the integers i with {upto} whose remainder when divided by {k} is {r}."
    first = next(i for i in range(lo, lo + k) if i % k == r)
    hidden = [(first,), (first + k,), (lo,)] + [(rng.randint(lo + 1, lo + 30),) for _ in range(4)]
    return Draft("count_mod", 2, name, "n", spec, sols, f, ((lo + k + 1,), (rng.randint(lo + 8, lo + 25),)),
                 _uniq(hidden))


def filter_sum(rng: random.Random) -> Draft:
    phrase, op, pred = _pick(rng, *_CMP)
    t, m = rng.randint(-3, 9), rng.randint(1, 4)
    name = _pick(rng, "selective_sum", "masked_total", "pick_sum")
    term = "v" if m == 1 else f"{m} * v"
    sols = (_lines("total = 0", "for v in xs:", f"    if v {op} {t}:", f"        total += {term}", "return total"),
            _lines(f"return sum({term} for v in xs if v {op} {t})"))

    def f(xs: list[int]) -> int:
        return sum(m * v for v in xs if pred(v, t))

    def lst(n: int) -> list[int]:
        return [rng.randint(t - 5, t + 5) for _ in range(n)]

    what = "v" if m == 1 else f"{m} * v"
    spec = f"Return the sum of {what} over the values v in xs that are {phrase} {t}."
    hidden = [([],), ([t],), ([t - 1, t, t + 1],)] + [(lst(rng.randint(2, 6)),) for _ in range(4)]
    return Draft("filter_sum", 2, name, "xs", spec, sols, f, ((lst(3),), (lst(4),)), _uniq(hidden))


def piecewise(rng: random.Random) -> Draft:
    t1 = rng.randint(-5, 5)
    t2 = t1 + rng.randint(2, 8)
    a, b, c = rng.randint(2, 6), rng.randint(1, 9), rng.randint(-9, 20)
    strict = rng.random() < 0.5
    op, word = ("<", "less than") if strict else ("<=", "at most")
    name = _pick(rng, "piecewise", "three_way", "banded")
    sols = (_lines(f"if x {op} {t1}:", f"    return {a} * x", f"if x {op} {t2}:", f"    return x + {b}", f"return {c}"),
            _lines(f"if x {op} {t1}:", f"    return {a} * x", f"elif x {op} {t2}:", f"    return x + {b}",
                   "else:", f"    return {c}"))

    def f(x: int) -> int:
        lt = (lambda u, v: u < v) if strict else (lambda u, v: u <= v)
        return a * x if lt(x, t1) else (x + b if lt(x, t2) else c)

    spec = (f"If x is {word} {t1}, return {a} * x. Otherwise, if x is {word} {t2}, return x + {b}. "
            f"Otherwise return {c}.")
    hidden = [(t1 - 1,), (t1,), (t1 + 1,), (t2,), (t2 + 1,), (rng.randint(t2 + 2, t2 + 20),)]
    return Draft("piecewise", 2, name, "x", spec, sols, f, ((t1 - 2,), (t2 + 3,)), _uniq(hidden))


def digit_sum(rng: random.Random) -> Draft:
    phrase, op, pred = _pick(rng, *_CMP)
    t = rng.randint(1, 8)
    name = _pick(rng, "digit_total", "sum_digits", "digit_filter")
    sols = (_lines("total = 0", "while n > 0:", "    d = n % 10", f"    if d {op} {t}:", "        total += d",
                   "    n //= 10", "return total"),
            _lines(f"return sum(int(c) for c in str(n) if int(c) {op} {t})"))

    def f(n: int) -> int:
        return sum(int(ch) for ch in str(n) if pred(int(ch), t))

    spec = f"Return the sum of the decimal digits of n (n > 0) that are {phrase} {t}."
    hidden = [(t,), (10 * t + t,)] + [(rng.randint(1, 99999),) for _ in range(5)]
    return Draft("digit_sum", 3, name, "n", spec, sols, f, ((rng.randint(10, 999),), (rng.randint(1000, 99999),)),
                 _uniq(hidden))


def sequence(rng: random.Random) -> Draft:
    s, m, c = rng.randint(-3, 9), rng.randint(1, 3), rng.randint(-4, 6)
    name = _pick(rng, "iterate", "make_sequence", "terms")
    step = f"v * {m} + {c}" if m != 1 else f"v + {c}"
    sols = (_lines("out = []", f"v = {s}", "for _ in range(n):", "    out.append(v)", f"    v = {step}", "return out"),)

    def f(n: int) -> list[int]:
        out, v = [], s
        for _ in range(n):
            out.append(v)
            v = v * m + c
        return out

    rule = f"times {m} plus {c}" if m != 1 else f"plus {c}"
    spec = f"Return the list of the first n terms of the sequence that starts at {s}, each term being the previous {rule}."
    return Draft("sequence", 3, name, "n", spec, sols, f, ((1,), (4,)), _uniq([(0,), (1,), (2,), (3,), (5,), (6,)]))


_PREDS = (  # phrase, test on ch
    ("a digit", "ch.isdigit()", str.isdigit),
    ("an uppercase letter", "ch.isupper()", str.isupper),
    ("a vowel (one of 'aeiou')", "ch in 'aeiou'", lambda ch: ch in "aeiou"),
)
_ALPHABET = "abcdeiouxyzAEBQ0123456789 "


def string_build(rng: random.Random) -> Draft:
    phrase, test, pred = _pick(rng, *_PREDS)
    rep, suffix = _pick(rng, "*", "#", "_", "-"), _pick(rng, "", "!", "?", ".")
    name = _pick(rng, "mask_text", "rewrite", "censor")
    end = f"out + {suffix!r}" if suffix else "out"
    sols = (_lines("out = ''", "for ch in s:", f"    if {test}:", f"        out += {rep!r}", "    else:",
                   "        out += ch", f"return {end}"),)

    def f(text: str) -> str:
        return "".join(rep if pred(ch) else ch for ch in text) + suffix

    def word() -> str:
        return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(3, 9)))

    tail = f" and append {suffix!r} at the end" if suffix else ""
    spec = f"Return s with every character that is {phrase} replaced by {rep!r}{tail}."
    hidden = [("",)] + [(word(),) for _ in range(5)]
    return Draft("string_build", 2, name, "s", spec, sols, f, ((word(),), (word(),)), _uniq(hidden))


def rises(rng: random.Random) -> Draft:
    t = rng.randint(0, 4)
    name = _pick(rng, "count_rises", "jumps", "steps_up")
    sols = (_lines("count = 0", "for i in range(1, len(xs)):", f"    if xs[i] > xs[i - 1] + {t}:", "        count += 1",
                   "return count"),
            _lines(f"return sum(1 for i in range(1, len(xs)) if xs[i] > xs[i - 1] + {t})"))

    def f(xs: list[int]) -> int:
        return sum(1 for i in range(1, len(xs)) if xs[i] > xs[i - 1] + t)

    def lst(n: int) -> list[int]:
        return [rng.randint(0, 12) for _ in range(n)]

    spec = f"Count the positions i >= 1 where xs[i] is more than {t} larger than xs[i - 1]."
    hidden = [([],), ([5],), ([0, t, t + 1],), ([3, 3 + t + 1],)] + [(lst(rng.randint(3, 7)),) for _ in range(3)]
    return Draft("rises", 3, name, "xs", spec, sols, f, ((lst(4),), (lst(5),)), _uniq(hidden))


def branch2(rng: random.Random) -> Draft:
    t, c = rng.randint(0, 6), rng.randint(-5, 9)
    name = _pick(rng, "combine", "choose", "mix")
    sols = (_lines(f"if a > b + {t}:", "    return a - b", f"return a * b + {c}"),
            _lines(f"if a <= b + {t}:", f"    return a * b + {c}", "return a - b"))

    def f(a: int, b: int) -> int:
        return a - b if a > b + t else a * b + c

    spec = f"Return a - b when a is more than b + {t}; otherwise return a * b + {c}."
    b0 = rng.randint(-3, 6)
    hidden = [(b0 + t, b0), (b0 + t + 1, b0)] + [(rng.randint(-5, 15), rng.randint(-5, 9)) for _ in range(4)]
    return Draft("branch2", 2, name, "a, b", spec, sols, f, ((b0 + t + 3, b0), (b0, b0 + 2)), _uniq(hidden))


def examples(rng: random.Random) -> Draft:
    a, b = rng.randint(2, 9), rng.randint(-20, 30)
    name = _pick(rng, "mystery", "rule", "guess")
    sols = (_lines(f"return {a} * x + {b}"), _lines(f"y = {a} * x", f"return y + {b}"))
    spec = "Return a * x + b for two fixed integers a and b, which the examples determine."
    hidden = [(x,) for x in rng.sample(range(2, 30), 6)]
    return Draft("examples", 3, name, "x", spec, sols, lambda x: a * x + b, ((0,), (1,)), tuple(hidden))


def examples_threshold(rng: random.Random) -> Draft:
    t, lo = rng.randint(-5, 15), rng.randint(-5, 5)
    hi = lo + rng.randint(1, 9)
    name = _pick(rng, "switch", "gate", "step_at")
    sols = (_lines(f"if x > {t}:", f"    return {hi}", f"return {lo}"),
            _lines(f"if x <= {t}:", f"    return {lo}", f"return {hi}"))
    shown = [(t,), (t + 1,)]
    rng.shuffle(shown)
    spec = "Return one fixed value when x is above a fixed threshold and another one otherwise; the examples sit on both sides of the threshold."
    hidden = [(t,), (t + 1,), (t - 1,), (t + 2,), (rng.randint(t - 20, t - 2),), (rng.randint(t + 3, t + 20),)]
    return Draft("examples_threshold", 3, name, "x", spec, sols, lambda x: hi if x > t else lo, tuple(shown),
                 _uniq(hidden))


def examples_count(rng: random.Random) -> Draft:
    k, lo = rng.randint(2, 15), rng.randint(1, 30)
    name = _pick(rng, "count_some", "how_many", "count_up")
    sols = (_lines("count = 0", f"for i in range({lo}, n + 1):", f"    if i % {k} == 0:", "        count += 1",
                   "return count"),
            _lines(f"return sum(1 for i in range({lo}, n + 1) if i % {k} == 0)"))

    def f(n: int) -> int:
        return sum(1 for i in range(lo, n + 1) if i % k == 0)

    first = -(-lo // k) * k  # the first multiple of k that is >= lo
    spec = (f"Count the integers i with {lo} <= i <= n that are multiples of a fixed number; "
            "the examples show where the count first becomes 1.")
    hidden = [(first,), (first - 1,), (first + k,), (first + k - 1,), (lo - 1,)]
    hidden += [(x,) for x in rng.sample(range(first + 2 * k, first + 6 * k), 4)]
    return Draft("examples_count", 3, name, "n", spec, sols, f, ((first - 1,), (first,)), _uniq(hidden))


FAMILIES: dict[str, Callable[[random.Random], Draft]] = {
    "affine": affine, "loop_sum": loop_sum, "count_mod": count_mod, "filter_sum": filter_sum,
    "piecewise": piecewise, "digit_sum": digit_sum, "sequence": sequence, "string_build": string_build,
    "rises": rises, "branch2": branch2, "examples": examples, "examples_threshold": examples_threshold,
    "examples_count": examples_count,
}
"""Every family by name, in a fixed order (the generator's draws depend on it)."""

DEFAULT_MIX: dict[str, float] = {
    "affine": 0.5, "loop_sum": 1.0, "count_mod": 1.0, "filter_sum": 1.0, "piecewise": 1.0, "digit_sum": 1.0,
    "sequence": 1.0, "string_build": 1.0, "rises": 1.0, "branch2": 1.0, "examples": 3.0,
    "examples_threshold": 2.0, "examples_count": 3.0,
}
"""Relative weight of each family in every split: few copyable one-liners (``affine``), and
the examples-only families (which need inference, not copying) weighted up so that the
tiny policy, fully trained, lands in the 20-50 % pass band (README "Measured")."""
