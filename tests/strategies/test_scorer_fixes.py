"""Regression tests for the scorer fixes of issue 12 (each fails on the code before them):
``prm`` with ``prod`` on raw outputs, the MCTS child whose terminal flag the first
continuation decided, and one basis for scorer cost across orm, prm, orm-mcts and vm-mcts.
Scorers are real tiny checkpoints; the policy is a table where the test needs exact texts.
"""
from __future__ import annotations

import pytest

from restrl_eval.backends import Generation, aggregate, load_scorer
from restrl_eval.strategies import (
    SamplingParams,
    SolveContext,
    create_strategy,
    mcts,  # noqa: F401  (registers vm-mcts, orm-mcts)
)
from restrl_eval.strategies.common import split_steps
from restrl_eval.strategies.mcts import EvalOutcome, LeafEvaluator, MCTSConfig, SearchProblem, search_many
from restrl_eval.strategies.mcts.search import split_action
from restrl_eval.strategies.mcts.tree import Node
from tests._run_bench import ArithBench

pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TablePolicy:
    """A policy whose continuations are fixed per prefix: the test knows every text."""

    name = "table"

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table, self.requests = table, []

    def generate(self, requests):
        self.requests.extend(requests)
        return [[Generation(t, 5, len(t) + 1, "stop") for t in self.table[r.prefix][: r.n]] for r in requests]

    def describe(self):
        return {"backend": self.name}


class TableValues(LeafEvaluator):
    """A value 'model' read from a table, in the VM-MCTS role."""

    name, score_key, values_states = "vm", "vm", True

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table

    def evaluate(self, jobs):
        return [EvalOutcome(tuple(self.table[s] for s in j.states), tuple(self.table[p] for p in j.programs),
                            scorer_calls=len(j.states) + len(j.programs)) for j in jobs]


def _ctx(policy, scorer, budget, bench=None):
    return SolveContext(policy=policy, benchmark=bench or ArithBench(), budget=budget, seed=0, scorer=scorer,
                        sampling=SamplingParams(temperature=0.7, max_tokens=24))


# -- 1. prm with prod multiplies probabilities ---------------------------------------------
def test_prod_multiplies_probabilities_not_raw_outputs():
    # old code: aggregate([-2, -3], "prod") == 6.0 ranked two bad steps above two good ones
    assert aggregate([-2, -3], "prod", scale="raw") < aggregate([0.5, 0.5], "prod")
    assert aggregate([-2, -3], "prod", scale="raw") == pytest.approx(0.11920292 * 0.04742587)
    assert aggregate([0.5, 0.5], "prod", scale="raw") == pytest.approx(0.62245933 ** 2)
    with pytest.raises(ValueError, match="multiplies probabilities"):
        aggregate([-2, -3], "prod")  # raw outputs handed over as probabilities: refused
    assert aggregate([-2, -3], "min", scale="raw") == -3  # min/last/mean keep the scorer's scale


def test_prm_prod_ranks_a_raw_scorer_by_step_probabilities(tiny_scorer_dir, tmp_path):
    from restrl_eval.testing import fit_scorer

    bench = ArithBench()
    task = bench.tasks()[0]
    bad, good = "x = 1\ny = 2", "u = 3\nv = 4"
    problem = bench.prompt(task, "chat")
    base = load_scorer(tiny_scorer_dir)
    targets = {"x = 1": -2.0, bad: -3.0, "u = 3": 0.5, good: 0.5}
    texts = [base.layout.format(problem=problem, code=code) for code in targets]
    scorer = load_scorer(str(fit_scorer(tiny_scorer_dir, tmp_path / "fit", texts, list(targets.values()),
                                        steps=250)))
    assert getattr(scorer, "probabilities", False) is False  # no restrl_scorer.json: raw outputs, as before
    steps = {c: scorer.score_steps(problem, split_steps(c)) for c in (bad, good)}
    assert steps[bad] == pytest.approx([-2.0, -3.0], abs=0.3) and steps[good] == pytest.approx([0.5, 0.5], abs=0.3)
    policy = TablePolicy({"": [bad, good]})
    sol = create_strategy("prm", {"agg": "prod"}).solve(task, _ctx(policy, scorer, 2, bench))
    assert sol.code == good and sol.index == 1  # the old product of raw outputs picked `bad` (~6 > ~0.25)
    assert sol.candidates[1].scores["prm"] == pytest.approx(aggregate(steps[good], "prod", scale="raw"), abs=1e-5)


# -- 2. MCTS: a child stays expandable when a continuation goes past its line --------------
def test_a_child_is_terminal_only_while_every_continuation_ended_there():
    root = Node("")
    a, new = root.add_child("A\n", terminal=True)
    assert new and a.terminal
    same, new = root.add_child("A\n", terminal=False)  # a longer continuation through A
    assert same is a and not new and not a.terminal
    root.add_child("A\n", terminal=True)  # a later stop at A does not end it again
    assert not a.terminal


def test_first_sample_stopping_early_does_not_collapse_the_tree_into_best_of_n():
    # the first root sample stops after "A"; the others continue past it
    table = {"": ["A\n", "A\nB\n", "A\nC\n"], "A\n": ["D\n", "E\nF\n", "G\n"]}
    values = TableValues({"A\n": 0.6, "A\nB\n": 0.2, "A\nC\n": 0.3, "A\nD\n": 0.9, "A\nE\n": 0.5,
                          "A\nG\n": 0.1, "A\nE\nF\n": 0.4})
    assert split_action(table[""][0]) == ("A\n", True)
    policy = TablePolicy(table)
    [res] = search_many([SearchProblem("t", "p", 0, budget=6)], policy, values, lambda t, x: x,
                        cfg=MCTSConfig(k=3, keep=2))
    a = res.root.children["A\n"]
    assert not a.terminal and a.expanded
    # the second expansion continued "A" (old code: "A" was terminal, the root was sampled again)
    assert [r.prefix for r in policy.requests] == ["", "A\n"]
    assert res.stats.root_reexpansions == 0
    assert [s.depth for s in res.samples] == [0, 0, 0, 1, 1, 1]
    assert res.samples[res.best_index()].text == "A\nD\n"


# -- 3. one basis for scorer cost -----------------------------------------------------------
# duplicates ("x = 1" twice) and blank programs ("" and "   ") among five samples; with k = 5
# a budget of 5 is one root expansion, so all four strategies see the same five texts
SAMPLES = ["x = 1\n", "x = 1\n", "", "y = 2\nz = 3\n", "   \n"]


def _tokens(scorer, problem, codes):
    tok = scorer.tokenizer
    return sum(len(tok(scorer.layout.format(problem=problem, code=c), add_special_tokens=True)["input_ids"])
               for c in codes)


@pytest.fixture(scope="module")
def scorer(tiny_scorer_dir):
    return load_scorer(tiny_scorer_dir)


def test_orm_prm_and_both_mcts_count_scorer_cost_alike(scorer):
    bench = ArithBench()
    task = bench.tasks()[1]
    problem = bench.prompt(task, "chat")
    programs = ["x = 1", "y = 2\nz = 3"]  # the distinct non-blank programs among SAMPLES
    costs, counted = {}, {}
    for name in ("orm", "prm", "orm-mcts", "vm-mcts"):
        before = (scorer.calls, getattr(scorer, "tokens", 0))
        sol = create_strategy(name).solve(task, _ctx(TablePolicy({"": SAMPLES}), scorer, 5, bench))
        assert sol.cost.candidates == 5
        costs[name] = sol.cost
        counted[name] = (scorer.calls - before[0], getattr(scorer, "tokens", 0) - before[1])
    assert costs["orm"].scorer_calls == costs["orm-mcts"].scorer_calls == 2
    for name, cost in costs.items():  # the cost is exactly what the scorer itself counted
        assert (cost.scorer_calls, cost.scorer_tokens) == counted[name]
    # orm and orm-mcts score the same texts: same calls, same tokens (the old code charged
    # orm 3 calls for the duplicate and orm-mcts 4 for the blank programs)
    assert (costs["orm"].scorer_calls, costs["orm"].scorer_tokens) == (2, _tokens(scorer, problem, programs))
    assert (costs["orm-mcts"].scorer_calls, costs["orm-mcts"].scorer_tokens) == (
        costs["orm"].scorer_calls, costs["orm"].scorer_tokens)
    # prm: one row per line prefix of each distinct program
    prefixes = ["x = 1", "y = 2", "y = 2\nz = 3"]
    assert (costs["prm"].scorer_calls, costs["prm"].scorer_tokens) == (3, _tokens(scorer, problem, prefixes))
    # vm-mcts: the distinct child states (first lines; "\n" for the blank samples) + the programs
    states = ["x = 1\n", "\n", "y = 2\n"]
    assert (costs["vm-mcts"].scorer_calls, costs["vm-mcts"].scorer_tokens) == (
        5, _tokens(scorer, problem, states + programs))
    for cost in costs.values():
        assert cost.to_dict()["scorer_tokens"] == cost.scorer_tokens > 0


def test_blank_and_duplicate_candidates_get_the_same_scores_in_every_strategy(scorer):
    bench = ArithBench()
    task = bench.tasks()[1]
    keys = {"orm": "orm", "orm-mcts": "orm", "vm-mcts": "vm"}
    for name, key in keys.items():
        sol = create_strategy(name).solve(task, _ctx(TablePolicy({"": SAMPLES}), scorer, 5, bench))
        got = [c.scores[key] for c in sol.candidates]
        assert got[2] is None and got[4] is None  # blank programs: never scored, ranked last
        assert got[0] == got[1] is not None  # the duplicate reuses the score
        assert sol.index in (0, 3)


class _StepTable:
    """A PRM read from a table: prompt lines score low, body lines by the table."""

    probabilities = True
    problem_field = "prompt"

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table

    def score_steps(self, problem, steps):
        return [self.table.get(line.strip(), 0.05) for line in steps]


def test_prm_ranks_on_the_steps_after_the_prompt():
    """A completion-style program repeats the task prompt; with agg=min a low score on a
    docstring line tied every candidate (the first one won). Only the body decides now."""
    from restrl_eval.benchmarks import Task
    from restrl_eval.strategies.base import Candidate, CostMeter
    from restrl_eval.strategies.best_of_n import ProcessBestOfN, given_steps

    prompt = 'def f(x):\n    """Return x + 1."""\n'
    task = Task("t/0", prompt)
    wrong, right = prompt + "    return x + 2\n", prompt + "    return x + 1\n"
    assert given_steps(right, prompt) == 2 and given_steps("    return 1\n", prompt) == 0
    scorer = _StepTable({"return x + 2": 0.3, "return x + 1": 0.9})
    ctx = _ctx(None, scorer, 2)
    cands = [Candidate(wrong, wrong), Candidate(right, right)]
    scored, scores = ProcessBestOfN(agg="min")._rank(scorer, task, cands, CostMeter(), ctx)
    assert scores == [0.3, 0.9]
    assert scored[1].scores["prm_given_steps"] == 2 and len(scored[1].scores["prm_steps"]) == 3
