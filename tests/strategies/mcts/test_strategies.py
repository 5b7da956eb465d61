"""vm-mcts and orm-mcts on a real tiny policy and scorer: the budget is spent exactly,
the cost record matches best-of-N's field by field, and batching tasks changes nothing."""
from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("torch")

from restrl_eval.strategies import (  # noqa: E402
    Cost,
    SamplingParams,
    SolveContext,
    StrategyError,
    create_strategy,
    mcts,  # noqa: E402,F401  (registers vm-mcts, orm-mcts)
)

MAX_TOKENS = 24


def _ctx(policy, bench, scorer, budget, seed=0, max_tokens=MAX_TOKENS):
    return SolveContext(policy=policy, benchmark=bench, budget=budget, seed=seed, scorer=scorer,
                        sampling=SamplingParams(temperature=0.7, max_tokens=max_tokens))


class CountingPolicy:
    """The real policy, with a record of every request it received."""

    def __init__(self, policy):
        self.policy, self.name, self.requests = policy, policy.name, []

    def generate(self, requests):
        self.requests.extend(requests)
        return self.policy.generate(requests)

    def describe(self):
        return self.policy.describe()


@pytest.mark.parametrize("name", ["vm-mcts", "orm-mcts"])
@pytest.mark.parametrize("budget", [1, 7, 12])
def test_budget_is_respected_exactly(tiny_policy, scorer, bench, name, budget):
    policy = CountingPolicy(tiny_policy)
    sol = create_strategy(name).solve(bench.tasks()[0], _ctx(policy, bench, scorer, budget))
    assert len(sol.candidates) == budget == sol.cost.candidates
    assert sum(r.n for r in policy.requests) == budget  # no sample drawn and dropped
    assert all(r.n <= 5 for r in policy.requests)  # k = 5 continuations per expansion
    assert sol.code == sol.candidates[sol.index].code


def test_cost_records_of_best_of_n_and_vm_mcts_compare_field_by_field(tiny_policy, scorer, bench):
    task, budget = bench.tasks()[1], 10
    orm = create_strategy("orm").solve(task, _ctx(tiny_policy, bench, scorer, budget))
    vm = create_strategy("vm-mcts").solve(task, _ctx(tiny_policy, bench, scorer, budget))
    assert type(orm.cost) is type(vm.cost) is Cost
    assert [f.name for f in dataclasses.fields(orm.cost)] == [f.name for f in dataclasses.fields(vm.cost)]
    assert orm.cost.to_dict().keys() == vm.cost.to_dict().keys()
    assert orm.cost.candidates == vm.cost.candidates == budget
    for sol in (orm, vm):
        assert sol.cost.completion_tokens == sum(c.completion_tokens for c in sol.candidates) > 0
        assert sol.cost.prompt_tokens == sum(c.prompt_tokens for c in sol.candidates) > 0
        assert sol.cost.wall_s > 0
    # VM-MCTS continues from partial programs: its prompts are longer than best-of-N's
    assert vm.cost.prompt_tokens >= orm.cost.prompt_tokens
    # scorer calls: one per distinct new child state and one per distinct program
    assert 0 < vm.cost.scorer_calls <= budget + len({c.code for c in vm.candidates})


def test_vm_mcts_picks_the_top_value_and_records_every_score(tiny_policy, scorer, bench):
    task = bench.tasks()[2]
    # 64 tokens: the random tiny model then writes a newline in most continuations
    sol = create_strategy("vm-mcts").solve(task, _ctx(tiny_policy, bench, scorer, 8, max_tokens=64))
    values = [c.scores["vm"] for c in sol.candidates]
    fresh = scorer.value(bench.prompt(task, "chat"), [c.code for c in sol.candidates])
    assert values == pytest.approx(fresh, abs=1e-5)
    ranked = [v for c, v in zip(sol.candidates, values) if c.code.strip()]
    if ranked:
        assert values[sol.index] == pytest.approx(max(ranked), abs=1e-6)
    assert {c.scores["depth"] for c in sol.candidates} >= {0}
    assert max(c.scores["depth"] for c in sol.candidates) >= 1  # the search went below the root


def test_within_one_expansion_mcts_draws_best_of_n_samples(tiny_policy, scorer, bench):
    # the root expansion uses the task seed, as best-of-N does: same first samples
    task = bench.tasks()[3]
    orm = create_strategy("orm").solve(task, _ctx(tiny_policy, bench, scorer, 5, seed=4))
    vm = create_strategy("vm-mcts").solve(task, _ctx(tiny_policy, bench, scorer, 5, seed=4))
    assert [c.text for c in vm.candidates] == [c.text for c in orm.candidates]


def test_solving_tasks_together_gives_what_solving_them_alone_gives(tiny_policy, scorer, bench):
    strat = create_strategy("vm-mcts")
    tasks = bench.tasks()[:3]
    ctx = _ctx(tiny_policy, bench, scorer, 11, seed=2)
    together = strat.solve_many(tasks, ctx)
    alone = [strat.solve(t, ctx) for t in tasks]
    for a, b in zip(together, alone):
        assert [c.text for c in a.candidates] == [c.text for c in b.candidates]
        assert a.index == b.index
        assert (a.cost.candidates, a.cost.scorer_calls, a.cost.completion_tokens) == (
            b.cost.candidates, b.cost.scorer_calls, b.cost.completion_tokens)


def test_bad_arguments_and_missing_scorer_are_one_line_errors(tiny_policy, bench):
    with pytest.raises(StrategyError, match="k must be >= 1"):
        create_strategy("vm-mcts", {"k": 0})
    with pytest.raises(StrategyError, match="eps must be > 0"):
        create_strategy("orm-mcts", {"eps": 0})
    with pytest.raises(StrategyError, match="has no argument 'child_credit'"):
        create_strategy("vm-mcts", {"child_credit": False})
    with pytest.raises(StrategyError, match="needs a scorer"):
        create_strategy("vm-mcts").solve(bench.tasks()[0], _ctx(tiny_policy, bench, None, 3))
    assert create_strategy("orm-mcts").spec.to_dict()["args"] == {
        "c": 0.1, "eps": 0.1, "k": 5, "keep": 5, "leaves_per_call": 1, "child_credit": True, "max_idle": 1}
