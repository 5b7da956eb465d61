"""Strategy registry, the recording decorator, and the shared ranking/stepping helpers."""
from __future__ import annotations

import pytest

from restrl_eval.registry import RegistryError
from restrl_eval.strategies import (
    STRATEGIES,
    Cost,
    CostMeter,
    StrategyError,
    StrategySpec,
    create_strategy,
    strategy,
    strategy_names,
    task_seed,
)
from restrl_eval.strategies.common import best_index, clean_score, split_steps


def test_in_tree_strategies_are_registered():
    assert {"greedy", "sample", "orm", "prm"} <= set(strategy_names())


def test_decorator_records_name_and_bound_args_with_defaults():
    s = create_strategy("prm")
    assert s.spec == StrategySpec("prm", {"agg": "min"})
    s = create_strategy("prm", {"agg": "prod"})
    assert s.spec.to_dict() == {"name": "prm", "args": {"agg": "prod"}} and s.agg == "prod"
    assert create_strategy("greedy").spec == StrategySpec("greedy", {})


def test_decorated_factory_called_directly_also_records_its_spec():
    @strategy("test-direct-k")
    class K:
        def __init__(self, k: int = 3, label: str = "x") -> None:
            self.k = k

    obj = K(k=5)
    assert obj.spec == StrategySpec("test-direct-k", {"k": 5, "label": "x"})
    assert STRATEGIES.get("test-direct-k") is K


def test_plain_factory_without_decorator_gets_spec_and_defaults():
    class Plain:
        def __init__(self, n: int = 2) -> None:
            self.n = n

        def solve(self, task, ctx):  # pragma: no cover - not called
            raise NotImplementedError

    STRATEGIES.add("test-plain", Plain)
    obj = create_strategy("test-plain", {"n": 7})
    assert obj.spec == StrategySpec("test-plain", {"n": 7})
    assert obj.default_budget == 1 and obj.needs_scorer is False


def test_bad_names_and_args_are_one_line_errors():
    with pytest.raises(RegistryError) as err:
        create_strategy("gredy")
    assert "did you mean 'greedy'" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(StrategyError, match=r"no argument 'bogus' \(known: agg\)"):
        create_strategy("prm", {"bogus": 1})
    with pytest.raises(StrategyError, match="unknown aggregation 'max'"):
        create_strategy("prm", {"agg": "max"})


def test_task_seed_is_stable_and_distinct():
    assert task_seed(0, "HumanEval/0") == task_seed(0, "HumanEval/0")
    assert task_seed(0, "HumanEval/0") != task_seed(1, "HumanEval/0")
    assert task_seed(0, "HumanEval/0") != task_seed(0, "HumanEval/1")
    assert 0 <= task_seed(123, "x") < 2**31


def test_split_steps_keeps_exact_prefixes_and_skips_blank_states():
    code = "import os\n\ndef f(x):\n\n    return x\n\n\n"
    steps = split_steps(code)
    assert steps == ["import os", "\ndef f(x):", "\n    return x"]
    for i in range(1, len(steps) + 1):
        assert code.startswith("\n".join(steps[:i]))
    assert split_steps("") == [] and split_steps("\n \n") == []


def test_best_index_takes_the_first_maximum_and_ranks_missing_last():
    assert best_index([0.1, 0.9, 0.3]) == 1
    assert best_index([0.5, 0.9, 0.9]) == 1
    assert best_index([None, -5.0, None]) == 1
    assert best_index([None, None]) == 0
    assert clean_score(float("nan")) is None and clean_score(float("-inf")) is None
    assert clean_score(2) == 2.0


def test_cost_meter_counts_candidates_tokens_and_states():
    from restrl_eval.backends.base import Generation

    m = CostMeter()
    m.generated([Generation("a", 10, 3, "stop"), Generation("b", 10, 5, "length")])
    m.generated([Generation("c", 12, 1, "stop")], complete=False)  # a partial step (MCTS)
    m.scored(4)
    c = m.freeze()
    assert (c.candidates, c.scorer_calls, c.completion_tokens, c.prompt_tokens) == (2, 4, 9, 32)
    assert c.wall_s >= 0
    total = c + Cost(1, 1, 1, 1, 1.0)
    assert total.candidates == 3 and Cost.from_dict(total.to_dict()).scorer_calls == 5
