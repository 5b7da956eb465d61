"""Within-problem ranking metrics on hand-made data with known answers."""
from __future__ import annotations

import pytest

from restrl_train.scorer.metrics import (
    best_of_n,
    pairwise_accuracy,
    ranking_report,
    spearman,
    within_problem_auc,
)


def test_within_problem_auc_is_the_mean_of_per_problem_aucs():
    # problem A: passing 0.9, 0.4; failing 0.5, 0.1 -> pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) = 3/4
    # problem B: passing 0.2; failing 0.2, 0.8 -> (tie 0.5, 0) = 0.25; problem C has no failing program
    groups = ["A"] * 4 + ["B"] * 3 + ["C"] * 2
    scores = [0.9, 0.4, 0.5, 0.1, 0.2, 0.2, 0.8, 0.1, 0.3]
    passed = [True, True, False, False, True, False, False, True, True]
    auc, n = within_problem_auc(groups, scores, passed)
    assert n == 2 and auc == pytest.approx((0.75 + 0.25) / 2)


def test_a_scorer_that_only_knows_problem_difficulty_ranks_at_chance_within_problems():
    groups = ["easy"] * 4 + ["hard"] * 4
    passed = [True, False, True, False] * 2
    targets = [float(p) for p in passed]
    scores = [0.9] * 4 + [0.1] * 4  # perfect between problems, blind within
    rep = ranking_report(groups, scores, targets, passed, ns=(2,))
    assert rep["within_auc"] == 0.5 and rep["pairwise_accuracy"] == 0.5
    assert rep["spearman"] == pytest.approx(0.0)
    assert rep["best_of_n"][0] == {"n": 2, "problems": 2, "scorer": 0.5, "random": 0.5, "oracle": 1.0}


def test_pairwise_accuracy_counts_pairs_with_different_targets_only():
    acc, pairs = pairwise_accuracy(["A", "A", "A", "B"], [0.1, 0.5, 0.9, 0.3], [0.0, 0.5, 0.5, 1.0])
    assert pairs == 2 and acc == 1.0
    assert pairwise_accuracy(["A", "A"], [0.1, 0.1], [0.0, 1.0]) == (0.5, 1)
    assert pairwise_accuracy(["A", "B"], [0.0, 1.0], [0.0, 1.0]) == (None, 0)


def test_spearman_matches_known_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [5, 5, 5]) is None
    # with ties: ranks x=[0,1.5,1.5,3], y=[0,1,2,3] -> rho = 0.9486833
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833, abs=1e-6)


def test_best_of_n_uses_disjoint_windows_and_skips_small_pools():
    groups = ["A"] * 8 + ["B"] * 3
    scores = [0.1, 0.9, 0.2, 0.3, 0.8, 0.1, 0.2, 0.3, 0.5, 0.5, 0.5]
    passed = [True, False, False, False, False, False, True, False, True, True, True]
    got = best_of_n(groups, scores, passed, 4)
    # windows of A: [T,F,F,F] picks 0.9 (F); [F,F,T,F] picks 0.8 (F) -> 0; random 0.25; oracle 1
    assert got == {"n": 4, "problems": 1, "scorer": 0.0, "random": 0.25, "oracle": 1.0}
    assert best_of_n(groups, scores, passed, 16)["problems"] == 0


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    from restrl_train.scorer.metrics import bootstrap_ci

    vals = [0.5, 0.6, 0.7, 0.9, 1.0, 0.4]
    lo, hi = bootstrap_ci(vals)
    assert lo < sum(vals) / len(vals) < hi and bootstrap_ci(vals) == [lo, hi]
    assert bootstrap_ci([0.7]) is None
