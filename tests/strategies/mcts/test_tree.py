"""The MCTS tree arithmetic on hand-built trees whose values are known, step by step:
UCT choice, backup, pruning to the top-k children, and one full search whose every count
is computed by hand (official VM-MCTS rules)."""
from __future__ import annotations

import math
import random

import pytest

from restrl_eval.backends.base import Generation
from restrl_eval.strategies.mcts.evaluators import EvalOutcome, LeafEvaluator
from restrl_eval.strategies.mcts.search import MCTSConfig, SearchProblem, search_many, split_action
from restrl_eval.strategies.mcts.tree import (
    Node,
    UCTParams,
    add_virtual,
    backup,
    prune,
    select_child,
    select_leaf,
    uct,
)


def _child(parent: Node, action: str, visits: int, value_sum: float, terminal: bool = False) -> Node:
    node, new = parent.add_child(action, terminal)
    assert new
    node.visits, node.value_sum = visits, value_sum
    return node


def _root_with_three(n_root: int = 10) -> tuple[Node, Node, Node, Node]:
    root = Node("")
    root.visits, root.value_sum, root.expanded = n_root, 4.0, True
    a = _child(root, "a\n", 5, 3.0)  # V = 0.6
    b = _child(root, "b\n", 1, 0.5)  # V = 0.5
    c = _child(root, "c\n", 4, 0.8)  # V = 0.2
    return root, a, b, c


def test_uct_is_the_official_formula():
    root, a, b, c = _root_with_three()
    p = UCTParams(c=0.1, eps=0.1)
    assert uct(a, p) == pytest.approx(0.6 + 0.1 * math.sqrt((1 + math.log(10)) / (0.1 + 5)))
    assert uct(b, p) == pytest.approx(0.5 + 0.1 * math.sqrt((1 + math.log(10)) / (0.1 + 1)))
    fresh = _child(root, "d\n", 0, 0.0)  # unvisited: V = 0, exploration over eps
    assert uct(fresh, p) == pytest.approx(0.1 * math.sqrt((1 + math.log(10)) / 0.1))


def test_uct_choice_depends_on_c_as_computed_by_hand():
    root, a, b, c = _root_with_three()
    # c = 0.1: a 0.6805 > b 0.6733 > c; c = 0.2: b 0.8465 > a 0.7609
    assert select_child(root, UCTParams(0.1, 0.1)) is a
    assert select_child(root, UCTParams(0.2, 0.1)) is b
    assert select_child(root, UCTParams(0.0, 0.1)) is a  # pure exploitation: the best mean


def test_hidden_children_are_never_selected():
    root, a, b, c = _root_with_three()
    a.visible = False
    assert select_child(root, UCTParams(0.1, 0.1)) is b
    for ch in (b, c):
        ch.visible = False
    with pytest.raises(ValueError, match="no visible child"):
        select_child(root, UCTParams(0.1, 0.1))


def test_ties_are_broken_by_the_rng_and_otherwise_by_order():
    root = Node("")
    root.visits, root.expanded = 3, True
    kids = [_child(root, f"{i}\n", 1, 0.5) for i in range(3)]
    p = UCTParams(0.1, 0.1)
    assert select_child(root, p) is kids[0]
    picks = {select_child(root, p, random.Random(s)).action for s in range(30)}
    assert picks == {"0\n", "1\n", "2\n"}


def test_select_leaf_descends_expanded_nodes_to_a_leaf_or_terminal():
    root, a, b, c = _root_with_three()
    p = UCTParams(0.1, 0.1)
    assert select_leaf(root, p) is a  # a is not expanded yet
    a.expanded = True
    x = _child(a, "x\n", 1, 0.9, terminal=True)
    _child(a, "y\n", 4, 0.4)
    assert select_leaf(root, p) is x  # a: x 0.9 + ... beats y 0.1 + ...


def test_backup_adds_to_the_path_and_nothing_else():
    root, a, b, c = _root_with_three()
    a.expanded = True
    x = _child(a, "x\n", 1, 0.9)
    backup(x, 3, 1.5)
    assert (x.visits, x.value_sum) == (4, pytest.approx(2.4))
    assert (a.visits, a.value_sum) == (8, pytest.approx(4.5))
    assert (root.visits, root.value_sum) == (13, pytest.approx(5.5))
    assert (b.visits, b.value_sum, c.visits, c.value_sum) == (1, 0.5, 4, 0.8)
    assert x.value == pytest.approx(0.6) and a.value == pytest.approx(4.5 / 8)


def test_prune_keeps_the_top_k_by_value_stably():
    root = Node("")
    values = [0.3, 0.9, 0.5, 0.9, 0.1, 0.7]
    kids = [_child(root, f"{i}\n", 1, v) for i, v in enumerate(values)]
    hidden = prune(root, 3)
    assert [k.visible for k in kids] == [False, True, False, True, False, True]
    assert set(hidden) == {kids[0], kids[2], kids[4]}
    assert prune(root, 3) == []  # idempotent
    kids[0].value_sum = 2.0  # a hidden child that improves comes back on the next prune
    prune(root, 3)
    assert [k.visible for k in kids] == [True, True, False, True, False, False]
    prune(root, 10)
    assert all(k.visible for k in kids)


def test_virtual_loss_steers_the_next_selection_and_unwinds():
    root, a, b, c = _root_with_three()
    p = UCTParams(0.1, 0.1)
    assert select_leaf(root, p) is a
    add_virtual(a)  # a looks visited once more with value 0: 3.0 / 6 = 0.5
    assert (a.virtual, root.virtual) == (1, 1)
    assert select_leaf(root, p) is b
    add_virtual(a, -1)
    assert select_leaf(root, p) is a and root.virtual == 0
    with pytest.raises(ValueError):
        add_virtual(a, -1)


@pytest.mark.parametrize("text,action,terminal", [
    ("x = 1\ny = 2\n", "x = 1\n", False),
    ("x = 1\n", "x = 1\n", True),
    ("x = 1\n\n  \n", "x = 1\n", True),
    ("x = 1", "x = 1\n", True),
    ("\n\nx = 1\ny\n", "\n\nx = 1\n", False),
    ("", "\n", True),
    ("  \n", "\n", True),
])
def test_split_action(text, action, terminal):
    assert split_action(text) == (action, terminal)


# -- a whole search, counted by hand ---------------------------------------------------------
class TablePolicy:
    """A deterministic policy: continuations looked up by prefix (known in advance)."""

    name = "table"

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[list[tuple[str, int]]] = []

    def generate(self, requests):
        self.calls.append([(r.prefix, r.n) for r in requests])
        return [[Generation(t, 7, 3, "stop") for t in self.table[r.prefix][: r.n]] for r in requests]


class TableValues(LeafEvaluator):
    """A value 'model' read from a table, in the VM-MCTS role."""

    name, score_key, values_states = "vm", "vm", True

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table
        self.jobs = []

    def evaluate(self, jobs):
        self.jobs.extend(jobs)
        return [EvalOutcome(tuple(self.table[s] for s in j.states), tuple(self.table[p] for p in j.programs),
                            scorer_calls=len(j.states) + len(j.programs)) for j in jobs]


TABLE = {
    "": ["A\nX\n", "B\nY\n", "A\nZ\n"],
    "A\n": ["C\n", "D\nE\n", "F\n"],
}
VALUES = {
    "A\n": 0.6, "B\n": 0.3, "A\nX\n": 0.2, "B\nY\n": 0.4, "A\nZ\n": 0.7,
    "A\nC\n": 0.9, "A\nD\n": 0.5, "A\nF\n": 0.1, "A\nD\nE\n": 0.8,
}


def test_two_expansions_match_the_hand_computation():
    policy, values = TablePolicy(TABLE), TableValues(VALUES)
    cfg = MCTSConfig(c=0.1, eps=0.1, k=3, keep=2, leaves_per_call=1)
    [res] = search_many([SearchProblem("t", "p", 0, budget=6)], policy, values, lambda t, x: x, cfg=cfg)
    root = res.root
    a, b = root.children["A\n"], root.children["B\n"]
    # round 1: A sampled twice (duplicate adds A's value again), B once; root gets the sum
    # round 2: UCT(A) = 0.6 + 0.1 sqrt((1 + ln 3) / 2.1) = 0.700 > UCT(B) = 0.438, so A is expanded
    assert policy.calls == [[("", 3)], [("A\n", 3)]]
    assert (b.visits, b.value_sum, b.expanded) == (1, pytest.approx(0.3), False)
    assert (a.visits, a.value_sum, a.expanded) == (2 + 3, pytest.approx(1.2 + 0.9 + 0.5 + 0.1), True)
    assert (root.visits, root.value_sum) == (6, pytest.approx(1.5 + 1.5))
    c, d, f = (a.children[x] for x in ("C\n", "D\n", "F\n"))
    assert (c.terminal, d.terminal, f.terminal) == (True, False, True)
    assert (c.visible, d.visible, f.visible) == (True, True, False)  # keep the top 2 of 3
    assert [(ch.visits, ch.value_sum) for ch in (c, d, f)] == [(1, 0.9), (1, 0.5), (1, 0.1)]
    # every continuation is a candidate; the answer is the top program value (0.9)
    assert [s.text for s in res.samples] == ["A\nX\n", "B\nY\n", "A\nZ\n", "A\nC\n", "A\nD\nE\n", "A\nF\n"]
    assert [s.depth for s in res.samples] == [0, 0, 0, 1, 1, 1]
    assert res.best_index() == 3 and res.samples[3].value == 0.9
    # one evaluator job per round: round 1 valued 2 new states + 3 programs, round 2 3 + 3
    assert [(len(j.states), len(j.programs)) for j in values.jobs] == [(2, 3), (3, 3)]
    assert res.stats.scorer_calls == 11 and res.stats.samples == 6


def test_terminal_revisit_backs_up_its_mean_without_sampling():
    # after the two rounds above, a third round selects A (0.614 > 0.459), then C (terminal,
    # 1.054 > 0.654): C backs up its own value once more (official) and costs no sample.
    # With max_idle = 1 the next selection skips finished subtrees: root -> A (0.670 > 0.464)
    # -> D (C is terminal, F hidden), which is expanded.
    policy, values = TablePolicy({**TABLE, "A\nD\n": ["E\n"] * 3}), TableValues(VALUES)
    cfg = MCTSConfig(c=0.1, eps=0.1, k=3, keep=2, leaves_per_call=1, max_idle=1)
    [res] = search_many([SearchProblem("t", "p", 0, budget=9)], policy, values, lambda t, x: x, cfg=cfg)
    a = res.root.children["A\n"]
    c, d = a.children["C\n"], a.children["D\n"]
    assert (c.visits, c.value_sum) == (2, pytest.approx(1.8))
    assert res.stats.terminal_visits == 1
    assert policy.calls[2] == [("A\nD\n", 3)]
    # D: its own 0.5, plus three samples of the duplicate child E (0.8 each)
    assert (d.visits, d.value_sum) == (4, pytest.approx(0.5 + 3 * 0.8))
    assert (a.visits, a.value_sum) == (5 + 1 + 3, pytest.approx(2.7 + 0.9 + 2.4))
    assert (res.root.visits, res.root.value_sum) == (6 + 1 + 3, pytest.approx(3.0 + 0.9 + 2.4))
    assert res.stats.samples == 9 and len(res.samples) == 9


@pytest.mark.parametrize("budget", [1, 2, 3, 4, 7, 8])
def test_budget_is_spent_exactly_even_when_the_last_expansion_is_partial(budget):
    policy, values = TablePolicy({**TABLE, "B\n": ["Q\n"] * 3, "A\nD\n": ["E\n"] * 3}), TableValues(
        {**VALUES, "B\nQ\n": 0.2, "A\nD\nE\n": 0.8})
    cfg = MCTSConfig(k=3, keep=2, leaves_per_call=2)
    [res] = search_many([SearchProblem("t", "p", 0, budget=budget)], policy, values, lambda t, x: x, cfg=cfg)
    assert len(res.samples) == budget == sum(n for call in policy.calls for _, n in call)


def test_an_exhausted_tree_expands_the_root_again():
    # every continuation is one line: all children terminal, nothing left to expand
    policy = TablePolicy({"": ["P\n", "Q\n", "P\n"]})
    values = TableValues({"P\n": 0.5, "Q\n": 0.4})
    [res] = search_many([SearchProblem("t", "p", 0, budget=8)], policy, values, lambda t, x: x,
                        cfg=MCTSConfig(k=3, leaves_per_call=1))
    assert [c[0] for c in policy.calls] == [("", 3), ("", 3), ("", 2)]
    assert res.stats.root_reexpansions == 2 and len(res.samples) == 8


class TableRewards(TableValues):
    name, score_key, values_states = "orm", "orm", False


def test_rollout_mode_credits_children_unless_told_to_reproduce_the_official_defect():
    rewards = {"A\nX\n": 0.2, "B\nY\n": 0.4, "A\nZ\n": 0.7}
    for credit in (True, False):
        ev = TableRewards(rewards)
        [res] = search_many([SearchProblem("t", "p", 0, budget=3)], TablePolicy(TABLE), ev, lambda t, x: x,
                            cfg=MCTSConfig(k=3, child_credit=credit))
        a, b = res.root.children["A\n"], res.root.children["B\n"]
        assert (res.root.visits, res.root.value_sum) == (3, pytest.approx(1.3))  # official backup
        if credit:
            assert (a.visits, a.value_sum, b.visits, b.value_sum) == (2, pytest.approx(0.9), 1, pytest.approx(0.4))
        else:  # official ORM-MCTS: children stay at 0, no state is scored
            assert (a.visits, a.value_sum, b.visits, b.value_sum) == (0, 0.0, 0, 0.0)
        assert all(not j.states for j in ev.jobs)
