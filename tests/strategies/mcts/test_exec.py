"""MCTS with execution rewards against independent sampling at an equal budget, on a real
tiny LM and real sandboxed execution (see ``tests/strategies/mcts/_env.py`` for why this task set).

Fixed seeds; both assertions can fail. ``mcts > independent`` fails for a search whose UCT
prefers low values (measured: 8/32 against 14/32). A tree also helps through diversity
alone (it splits samples evenly between first lines), so the second assertion checks that
the values steer the search: the official c = 0.2 must beat the same search with its
values swamped by exploration (c = 50); a search without backup fails it (measured: 19/32
against 21/32). Measured with the shipped settings: independent 14/32, c = 50 21/32,
c = 0.2 29/32. ``RESTRL_TEST_MCTS_C=50`` runs the first arm with c = 50 to watch it fail.
"""
from __future__ import annotations

import os

import pytest

pytest.importorskip("torch")

from restrl_eval.backends import GenerationRequest, load_policy  # noqa: E402
from restrl_eval.execution import Executor  # noqa: E402
from restrl_eval.strategies.base import task_seed  # noqa: E402
from restrl_eval.strategies.mcts import ExecutionEvaluator, MCTSConfig, SearchProblem, search_many  # noqa: E402
from tests.strategies.mcts._env import BitsBench, build_bits_lm  # noqa: E402

BUDGET, TEMPERATURE, MAX_TOKENS, SEED = 30, 0.7, 24, 0


@pytest.fixture(scope="module")
def bits_policy(tmp_path_factory):
    return load_policy(str(build_bits_lm(tmp_path_factory.mktemp("bits_lm"))), device="cpu")


def test_exec_mcts_solves_more_tasks_than_independent_sampling(bits_policy):
    bench = BitsBench()
    tasks = bench.tasks()
    with Executor(workers=2) as ex:
        # independent sampling: BUDGET samples per task, as best-of-N draws them
        requests = [GenerationRequest(prompt=bench.prompt(t), chat=False, n=BUDGET, temperature=TEMPERATURE,
                                      max_tokens=MAX_TOKENS, seed=task_seed(SEED, t.task_id)) for t in tasks]
        independent = 0
        for t, gens in zip(tasks, bits_policy.generate(requests)):
            programs = sorted({bench.extract_code(t, g.text) for g in gens})
            independent += any(v.passed for v in bench.check(t, programs, ex))
        # MCTS with execution rewards (the data-collection search, c = 0.2), same budget
        c = float(os.environ.get("RESTRL_TEST_MCTS_C", 0.2))
        mcts = _solved_by_mcts(bits_policy, bench, ex, c)
        swamped = _solved_by_mcts(bits_policy, bench, ex, 50.0)
    print(f"tasks solved at budget {BUDGET}: independent sampling {independent}/{len(tasks)}, "
          f"exec-MCTS c={c} {mcts}/{len(tasks)}, c=50 {swamped}/{len(tasks)}")
    assert 0 < independent < len(tasks), "the environment must be solvable sometimes, not always"
    assert mcts > independent
    assert mcts > swamped


def _solved_by_mcts(policy, bench, ex, c: float) -> int:
    tasks = bench.tasks()
    problems = [SearchProblem(t, bench.prompt(t), task_seed(SEED, t.task_id), BUDGET) for t in tasks]
    results = search_many(problems, policy, ExecutionEvaluator(bench, ex), bench.extract_code,
                          cfg=MCTSConfig(c=c), temperature=TEMPERATURE, max_tokens=MAX_TOKENS, chat=False)
    assert all(len(r.samples) == BUDGET for r in results)
    assert max(s.depth for r in results for s in r.samples) >= 2
    # re-judge the best program of each tree independently of the search's own values
    best = [r.samples[r.best_index()].code for r in results]
    return sum(bench.check(t, [code], ex)[0].passed for t, code in zip(tasks, best))


def test_collected_values_rank_right_prefixes_above_wrong_ones(bits_policy):
    """The value-training records of the exec search carry signal: over all depth-1..4 node
    records, a prefix whose lines are all right has a higher mean value than one with a
    wrong line (what a value model must learn from them)."""
    from restrl_train.collect import tree_records

    bench = BitsBench()
    tasks = bench.tasks()[::4]
    with Executor(workers=2) as ex:
        problems = [SearchProblem(t, bench.prompt(t), task_seed(SEED, t.task_id), BUDGET) for t in tasks]
        results = search_many(problems, bits_policy, ExecutionEvaluator(bench, ex), bench.extract_code,
                              cfg=MCTSConfig(c=0.2), temperature=TEMPERATURE, max_tokens=MAX_TOKENS, chat=False)
    right, wrong = [], []
    for t, r in zip(tasks, results):
        want = [f"{n}={b}" for n, b in zip("abcde", t.data["pattern"])]
        for rec in tree_records(t.task_id, bench.prompt(t), r):
            lines = rec["state"].splitlines()
            if rec["kind"] == "node" and 1 <= rec["depth"] <= 4:
                (right if lines == want[: len(lines)] else wrong).append(rec["value"])
            if rec["kind"] == "program":  # a program's value is its reward: the fraction right
                assert rec["value"] == sum(a == b for a, b in zip(lines, want)) / 5
    assert right and wrong
    assert sum(right) / len(right) > sum(wrong) / len(wrong) + 0.1
