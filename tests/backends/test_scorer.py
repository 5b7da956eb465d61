"""The transformers scorer (ORM / PRM / VM) on tiny real sequence classifiers."""
from __future__ import annotations

import pytest

from restrl_eval.backends import DEFAULT_SCORER_LAYOUT, BackendError, load_scorer

pytest.importorskip("transformers")

PROBLEM = "Return the sum of a list of integers."
PROGRAMS = [
    "def total(xs):\n    return sum(xs)\n",
    "def total(xs):\n    return 0\n",
    "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n",
]


@pytest.fixture(scope="module")
def scorer(tiny_scorer_dir):
    return load_scorer(tiny_scorer_dir, device="cpu")


def test_batched_scores_equal_one_by_one(scorer):
    together = scorer.score(PROBLEM, PROGRAMS)
    alone = [scorer.score(PROBLEM, [p])[0] for p in PROGRAMS]
    assert together == pytest.approx(alone, abs=1e-5)
    assert len({round(x, 6) for x in together}) == 3  # a real model: different inputs, different scores


def test_default_layout_is_the_official_one(scorer):
    assert DEFAULT_SCORER_LAYOUT == "\n<prompt>\n{problem}\n<answer>\n{code}\n"
    [via_score] = scorer.score(PROBLEM, PROGRAMS[:1])
    [by_hand] = scorer.raw([f"\n<prompt>\n{PROBLEM}\n<answer>\n{PROGRAMS[0]}\n"])
    assert via_score == by_hand


def test_layout_is_configurable_and_checked(tiny_scorer_dir, scorer):
    custom = load_scorer(tiny_scorer_dir, layout="Q: {problem}\nA: {code}", device="cpu")
    [got] = custom.score(PROBLEM, PROGRAMS[:1])
    assert got == scorer.raw([f"Q: {PROBLEM}\nA: {PROGRAMS[0]}"])[0]
    assert got != scorer.score(PROBLEM, PROGRAMS[:1])[0]
    for bad in ("{problem} only", "{problem} {code} {extra}", "{problem} {code"):
        with pytest.raises(BackendError, match="layout"):
            load_scorer(tiny_scorer_dir, layout=bad)


def test_score_steps_scores_each_line_prefix(scorer):
    lines = PROGRAMS[2].rstrip("\n").split("\n")
    steps = scorer.score_steps(PROBLEM, lines)
    expected = scorer.score(PROBLEM, ["\n".join(lines[: i + 1]) for i in range(len(lines))])
    assert steps == pytest.approx(expected, abs=1e-5) and len(steps) == len(lines)


def test_calls_count_states_scored(tiny_scorer_dir):
    s = load_scorer(tiny_scorer_dir, device="cpu")
    s.score(PROBLEM, PROGRAMS)
    s.score_steps(PROBLEM, ["a", "b"])
    s.value(PROBLEM, [])
    assert s.calls == 5


def test_a_fitted_scorer_ranks_as_trained_and_values_are_clipped(tmp_path, tiny_scorer_dir):
    from restrl_eval.testing import fit_scorer

    targets = [0.9, -0.5, 1.6]
    texts = [DEFAULT_SCORER_LAYOUT.format(problem=PROBLEM, code=p) for p in PROGRAMS]
    fitted = load_scorer(str(fit_scorer(tiny_scorer_dir, tmp_path / "fit", texts, targets)), device="cpu")
    raw = fitted.score(PROBLEM, PROGRAMS)
    assert raw == pytest.approx(targets, abs=0.1)
    assert max(range(3), key=raw.__getitem__) == 2
    values = fitted.value(PROBLEM, PROGRAMS)
    assert values[1] == 0.0 and values[2] == 1.0 and values[0] == pytest.approx(0.9, abs=0.1)


def test_a_causal_lm_is_not_a_scorer(tiny_lm_dir):
    with pytest.raises(BackendError, match="num_labels=1"):
        load_scorer(tiny_lm_dir, device="cpu")


def test_missing_scorer_path(tmp_path):
    with pytest.raises(BackendError, match="no such file or directory"):
        load_scorer(str(tmp_path / "nope"))


def test_describe(scorer, tiny_scorer_dir):
    d = scorer.describe()
    assert d["layout"] == DEFAULT_SCORER_LAYOUT and len(d["sha256"]) == 64 and d["path"].endswith(
        tiny_scorer_dir.rstrip("/").split("/")[-1])
