"""What the scorer reads as ``{problem}`` (its ``problem_field``) in every scoring strategy,
and the off-the-shelf scorer backends driving ``prm`` and ``orm`` end to end."""
from __future__ import annotations

import json
import shutil

import pytest

from restrl_eval.backends import aggregate, load_scorer
from restrl_eval.strategies import (
    SamplingParams,
    SolveContext,
    create_strategy,
    mcts,  # noqa: F401  (registers vm-mcts, orm-mcts)
)
from restrl_eval.strategies.common import raw_problem, scorer_problem
from tests._run_bench import ArithBench
from tests.strategies.test_scorer_fixes import SAMPLES, TablePolicy

pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _ctx(scorer, budget=5, bench=None):
    return SolveContext(policy=TablePolicy({"": SAMPLES}), benchmark=bench or ArithBench(), budget=budget, seed=0,
                        scorer=scorer, sampling=SamplingParams(temperature=0.7, max_tokens=24))


@pytest.fixture(scope="module")
def raw_field_dir(tiny_scorer_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("raw-field") / "scorer"
    shutil.copytree(tiny_scorer_dir, out)
    (out / "restrl_scorer.json").write_text(json.dumps({"kind": "orm", "problem_field": "raw", "output": "raw"}))
    return str(out)


def test_raw_problem_is_the_task_text_not_the_prompt():
    bench = ArithBench()
    task = bench.tasks()[0]
    assert raw_problem(bench, task) == task.prompt != bench.prompt(task, "chat")

    class WithHook(ArithBench):
        def problem_text(self, task):
            return "own text"

    assert raw_problem(WithHook(), task) == "own text"


@pytest.mark.parametrize("name,key,method", [("orm", "orm", "score"), ("orm-mcts", "orm", "score"),
                                             ("vm-mcts", "vm", "value")])
def test_every_strategy_gives_the_scorer_the_problem_its_field_names(raw_field_dir, tiny_scorer_dir, name, key,
                                                                      method):
    bench = ArithBench()
    task = bench.tasks()[2]
    codes = ["x = 1", "y = 2\nz = 3"]
    raw_scorer = load_scorer(raw_field_dir)  # problem_field "raw" from restrl_scorer.json
    prompt_scorer = load_scorer(tiny_scorer_dir)  # no file: the policy prompt, as before
    assert (raw_scorer.problem_field, prompt_scorer.problem_field) == ("raw", "prompt")
    got = {}
    for scorer, problem in ((raw_scorer, task.prompt), (prompt_scorer, bench.prompt(task, "chat"))):
        assert scorer_problem(_ctx(scorer, bench=bench), task) == problem
        sol = create_strategy(name).solve(task, _ctx(scorer, bench=bench))
        got[scorer.problem_field] = [sol.candidates[i].scores[key] for i in (0, 3)]
        assert got[scorer.problem_field] == pytest.approx(getattr(scorer, method)(problem, codes), abs=1e-5)
    # same weights, different problem text: different scores (raw outputs, not clipped values)
    assert raw_scorer.score(task.prompt, codes) != pytest.approx(prompt_scorer.score(bench.prompt(task, "chat"), codes),
                                                                  abs=1e-4)


def test_prm_with_the_token_prm_backend_costs_one_row_per_program(tiny_lm_dir):
    bench = ArithBench()
    task = bench.tasks()[0]
    prm_scorer = load_scorer(tiny_lm_dir, backend="token-prm", device="cpu")
    calls, tokens = prm_scorer.calls, prm_scorer.tokens
    sol = create_strategy("prm", {"agg": "prod"}).solve(task, _ctx(prm_scorer, bench=bench))
    # two distinct non-blank programs ("x = 1", "y = 2\nz = 3"): one forward pass each
    assert (sol.cost.scorer_calls, sol.cost.scorer_tokens) == (2, prm_scorer.tokens - tokens)
    assert prm_scorer.calls - calls == 2 and sol.cost.scorer_tokens > 0
    problem = bench.prompt(task, "chat")
    steps = [prm_scorer.score_steps(problem, ["x = 1"]), prm_scorer.score_steps(problem, ["y = 2", "z = 3"])]
    prods = [aggregate(s, "prod") for s in steps]  # probabilities: multiplied as they are
    assert [sol.candidates[i].scores["prm"] for i in (0, 3)] == pytest.approx(prods, abs=1e-5)
    assert sol.index == (0 if prods[0] >= prods[1] else 3)


def test_orm_with_the_chat_orm_backend(tiny_scorer_dir):
    bench = ArithBench()
    task = bench.tasks()[0]
    orm_scorer = load_scorer(tiny_scorer_dir, backend="chat-orm", device="cpu")
    sol = create_strategy("orm").solve(task, _ctx(orm_scorer, bench=bench))
    want = orm_scorer.score(bench.prompt(task, "chat"), ["x = 1", "y = 2\nz = 3"])
    assert [sol.candidates[i].scores["orm"] for i in (0, 3)] == pytest.approx(want, abs=1e-5)
    assert sol.index == (0 if want[0] >= want[1] else 3) and sol.cost.scorer_calls == 2
