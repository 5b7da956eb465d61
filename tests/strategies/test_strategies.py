"""Strategies on a real tiny policy and a real tiny scorer (checkpoints built by the tests'
fixtures): determinism, seeding, the budget, and best-of-N choosing the scorer's top pick.
"""
from __future__ import annotations

import pytest

pytest.importorskip("torch")

from restrl_eval.backends import aggregate, load_policy, load_scorer  # noqa: E402
from restrl_eval.strategies import SamplingParams, SolveContext, StrategyError, create_strategy  # noqa: E402
from restrl_eval.strategies.common import split_steps  # noqa: E402

MAX_TOKENS = 24


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def policy(tiny_policy):
    return tiny_policy


def _ctx(policy, bench, *, budget=1, seed=0, temperature=0.7, scorer=None):
    return SolveContext(policy=policy, benchmark=bench, budget=budget, seed=seed, scorer=scorer,
                        sampling=SamplingParams(temperature=temperature, max_tokens=MAX_TOKENS))


def test_greedy_is_deterministic_and_uses_one_candidate(policy, bench, tiny_lm_dir):
    greedy = create_strategy("greedy")
    tasks = bench.tasks()[:3]
    first = [greedy.solve(t, _ctx(policy, bench, budget=5)) for t in tasks]
    again = [greedy.solve(t, _ctx(load_policy(str(tiny_lm_dir)), bench, seed=99)) for t in tasks]
    assert [s.candidates[0].text for s in first] == [s.candidates[0].text for s in again]
    for s in first:
        assert s.cost.candidates == 1 and len(s.candidates) == 1 and s.index == 0
        assert s.cost.completion_tokens == s.candidates[0].completion_tokens > 0
        assert s.cost.prompt_tokens > 0 and s.cost.scorer_calls == 0
        assert s.code == bench.extract_code(None, s.candidates[0].text)


def test_sample_is_reproducible_per_seed_and_varies_across_seeds(policy, bench):
    sample = create_strategy("sample")
    tasks = bench.tasks()[:3]
    texts = lambda seed: [sample.solve(t, _ctx(policy, bench, seed=seed)).candidates[0].text for t in tasks]  # noqa: E731
    a, b, c = texts(5), texts(5), texts(6)
    assert a == b
    assert a != c  # a random tiny model at T=0.7 does not repeat itself across seeds


def test_sample_of_one_task_does_not_depend_on_the_tasks_before_it(policy, bench):
    sample = create_strategy("sample")
    t0, t1 = bench.tasks()[:2]
    ctx = _ctx(policy, bench, seed=3)
    alone = sample.solve(t1, ctx).candidates[0].text
    sample.solve(t0, ctx)
    assert sample.solve(t1, ctx).candidates[0].text == alone


@pytest.mark.parametrize("budget", [1, 3])
def test_orm_samples_exactly_the_budget_and_picks_the_scorers_argmax(policy, scorer, bench, budget):
    orm = create_strategy("orm")
    for task in bench.tasks()[:2]:
        sol = orm.solve(task, _ctx(policy, bench, budget=budget, seed=1, scorer=scorer))
        assert len(sol.candidates) == budget and sol.cost.candidates == budget
        nonempty = [i for i, c in enumerate(sol.candidates) if c.code.strip()]
        assert sol.cost.scorer_calls == len({sol.candidates[i].code for i in nonempty})
        # ask the scorer again, independently, and check the choice against its scores
        fresh = scorer.score(bench.prompt(task, "chat"), [sol.candidates[i].code for i in nonempty])
        assert [sol.candidates[i].scores["orm"] for i in nonempty] == pytest.approx(fresh, abs=1e-5)
        assert nonempty, "the tiny policy gave only empty programs: nothing was ranked"
        best = max(fresh)
        assert sol.index in nonempty and fresh[nonempty.index(sol.index)] == pytest.approx(best, abs=1e-6)
        assert sol.code == sol.candidates[sol.index].code
        assert sum(c.completion_tokens for c in sol.candidates) == sol.cost.completion_tokens


def test_orm_scores_differ_so_the_argmax_check_is_not_vacuous(policy, scorer, bench):
    sol = create_strategy("orm").solve(bench.tasks()[0], _ctx(policy, bench, budget=4, seed=2, scorer=scorer))
    scores = [c.scores["orm"] for c in sol.candidates if c.scores["orm"] is not None]
    assert len(set(round(s, 6) for s in scores)) > 1


@pytest.mark.parametrize("agg", ["min", "last", "mean", "prod"])
def test_prm_picks_the_argmax_of_the_aggregated_step_scores(policy, scorer, bench, agg):
    prm = create_strategy("prm", {"agg": agg})
    task = bench.tasks()[1]
    sol = prm.solve(task, _ctx(policy, bench, budget=3, seed=4, scorer=scorer))
    assert sol.cost.candidates == 3 == len(sol.candidates)
    problem = bench.prompt(task, "chat")
    expected, states, seen = [], 0, set()
    for c in sol.candidates:
        steps = split_steps(c.code)
        if c.code not in seen:  # a duplicate program reuses its scores and costs nothing
            states += len(steps)
            seen.add(c.code)
        if not steps:
            expected.append(None)
            continue
        step_scores = scorer.score_steps(problem, steps)
        assert c.scores["prm_steps"] == pytest.approx(step_scores, abs=1e-5)
        expected.append(aggregate(step_scores, agg, scale="raw"))  # the tiny scorer's outputs are raw
    assert sol.cost.scorer_calls == states
    ranked = [e for e in expected if e is not None]
    assert len(ranked) >= 2, "fewer than two programs were ranked"
    assert expected[sol.index] == pytest.approx(max(ranked), abs=1e-6)


def test_best_of_n_without_a_scorer_is_a_one_line_error(policy, bench):
    for name in ("orm", "prm"):
        with pytest.raises(StrategyError, match="needs a scorer"):
            create_strategy(name).solve(bench.tasks()[0], _ctx(policy, bench, budget=2))


# -- known-answer tests: a scorer fitted so that the right pick is known in advance --------
def _fitted_scorer(tiny_scorer_dir, out_dir, texts_targets: dict[str, float]):
    from restrl_eval.testing.tiny_models import fit_scorer

    texts, targets = zip(*texts_targets.items())
    fit_scorer(tiny_scorer_dir, out_dir, list(texts), list(targets), steps=200)
    return load_scorer(str(out_dir))


def _target_index(candidates, untrained_scores) -> int:
    """The candidate to promote: the one the untrained scorer likes least (so picking it
    is the fitted scorer's doing), among those with a distinct non-empty program."""
    codes = [c.code for c in candidates]
    usable = [i for i, c in enumerate(codes) if c.strip() and codes.count(c) == 1]
    assert usable, "the tiny policy gave no distinct non-empty candidate"
    return min(usable, key=lambda i: (untrained_scores[i] is None, untrained_scores[i] or 0.0))


def test_orm_picks_the_candidate_a_fitted_scorer_is_known_to_prefer(policy, scorer, bench, tiny_scorer_dir,
                                                                     tmp_path):
    task, budget, seed = bench.tasks()[2], 4, 11
    ctx = _ctx(policy, bench, budget=budget, seed=seed, scorer=scorer)
    before = create_strategy("orm").solve(task, ctx)
    j = _target_index(before.candidates, [c.scores["orm"] for c in before.candidates])
    assert before.index != j
    layout = scorer.layout
    problem = bench.prompt(task, "chat")
    targets = {layout.format(problem=problem, code=c.code): (1.0 if i == j else 0.0)
               for i, c in enumerate(before.candidates) if c.code.strip()}
    fitted = _fitted_scorer(tiny_scorer_dir, tmp_path / "orm-fitted", targets)
    scores = fitted.score(problem, [before.candidates[j].code] +
                          [c.code for i, c in enumerate(before.candidates) if i != j and c.code.strip()])
    assert scores[0] > max(scores[1:]) + 0.2  # the fit worked: j is the known answer
    after = create_strategy("orm").solve(task, _ctx(policy, bench, budget=budget, seed=seed, scorer=fitted))
    assert [c.text for c in after.candidates] == [c.text for c in before.candidates]
    assert after.index == j and after.code == before.candidates[j].code


def test_prm_min_picks_the_candidate_whose_weakest_step_is_strongest(policy, scorer, bench, tiny_scorer_dir,
                                                                      tmp_path):
    task, budget, seed = bench.tasks()[3], 3, 12
    ctx = _ctx(policy, bench, budget=budget, seed=seed, scorer=scorer)
    before = create_strategy("prm").solve(task, ctx)
    j = _target_index(before.candidates, [c.scores["prm"] for c in before.candidates])
    problem = bench.prompt(task, "chat")
    fmt = lambda steps, k: scorer.layout.format(problem=problem, code="\n".join(steps[: k + 1]))  # noqa: E731
    targets: dict[str, float] = {}
    for i, c in enumerate(before.candidates):  # every state of j is good ...
        if i == j:
            steps = split_steps(c.code)
            targets.update({fmt(steps, k): 0.8 for k in range(len(steps))})
    for i, c in enumerate(before.candidates):  # ... every other candidate has one bad state
        steps = split_steps(c.code)
        if i != j and steps:
            bad = fmt(steps, len(steps) - 1)
            assert bad not in targets
            targets[bad] = 0.0
            targets.update({fmt(steps, k): 0.9 for k in range(len(steps) - 1) if fmt(steps, k) not in targets})
    fitted = _fitted_scorer(tiny_scorer_dir, tmp_path / "prm-fitted", targets)
    after = create_strategy("prm", {"agg": "min"}).solve(
        task, _ctx(policy, bench, budget=budget, seed=seed, scorer=fitted))
    assert [c.text for c in after.candidates] == [c.text for c in before.candidates]
    mins = [c.scores["prm"] for c in after.candidates]
    assert after.index == j, mins
    # with "mean", the 0.9 states of the others could outweigh: min is what makes j win here
    assert all(m is None or m < mins[j] for i, m in enumerate(mins) if i != j)


@pytest.mark.parametrize("name,budget", [("greedy", 1), ("sample", 1), ("orm", 4), ("prm", 3)])
def test_solve_many_gives_each_task_what_solve_gives_it(policy, scorer, bench, name, budget):
    """``--batch-tasks``: several tasks in one policy call; each keeps its own requests and
    seed, so its candidates, scores, choice and counted cost equal those of ``solve``."""
    strat = create_strategy(name)
    temperature = 0.0 if name == "greedy" else 0.7
    ctx = _ctx(policy, bench, budget=budget, seed=4, temperature=temperature,
               scorer=scorer if strat.needs_scorer else None)
    tasks = bench.tasks()[:4]
    together = strat.solve_many(tasks, ctx)
    alone = [strat.solve(t, ctx) for t in tasks]
    assert len(together) == len(tasks)
    for a, b in zip(together, alone):
        assert [c.text for c in a.candidates] == [c.text for c in b.candidates]
        assert a.index == b.index and a.code == b.code
        for ca, cb in zip(a.candidates, b.candidates):
            assert set(ca.scores) == set(cb.scores)
            for key in ca.scores:
                assert ca.scores[key] == pytest.approx(cb.scores[key], abs=1e-5)
        ca, cb = a.cost.to_dict(), b.cost.to_dict()
        assert ca.pop("wall_s") > 0 and cb.pop("wall_s") > 0
        assert ca == cb
    assert len({c.text for s in together for c in s.candidates}) > 1  # not one repeated text
