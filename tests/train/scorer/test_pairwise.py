"""The within-problem pairwise term: its value, the whole-problem batches that feed it, and a
trainer run that uses it (tiny real model, real files)."""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from restrl_train.scorer import ScorerTrainConfig  # noqa: E402
from restrl_train.scorer.pairwise import ProblemGroupedSampler, pairwise_loss, problem_grouped_order  # noqa: E402
from restrl_train.scorer.trainer import train_scorer  # noqa: E402
from tests.train.scorer._toy import write_outcomes  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_pairwise_loss_counts_only_ordered_pairs_of_one_problem():
    z = torch.tensor([2.0, 0.0, 5.0, -5.0])
    y = torch.tensor([1.0, 0.0, 1.0, 1.0])
    g = torch.tensor([0, 0, 1, 2])  # problems 1 and 2 have one program each: no pair
    want = math.log1p(math.exp(-2.0))  # the one pair (0 better than 1), z gap 2
    assert pairwise_loss(z, y, g).item() == pytest.approx(want)
    flipped = pairwise_loss(torch.tensor([0.0, 2.0, 0.0, 0.0]), y, g).item()
    assert flipped == pytest.approx(math.log1p(math.exp(2.0)))  # ranked the wrong way: larger loss
    none = pairwise_loss(z.requires_grad_(), torch.ones(4), g)
    assert none.item() == 0.0 and none.requires_grad  # no pair: zero, still differentiable


def test_grouped_order_is_a_seeded_permutation_with_runs_of_one_problem():
    groups = [i % 5 for i in range(23)]
    order = problem_grouped_order(groups, 4, seed=1)
    assert sorted(order) == list(range(23))
    assert order == problem_grouped_order(groups, 4, seed=1) != problem_grouped_order(groups, 4, seed=2)
    runs, cur = [], [order[0]]
    for i in order[1:]:
        if groups[i] == groups[cur[-1]] and len(cur) < 4:
            cur.append(i)
        else:
            runs.append(cur)
            cur = [i]
    runs.append(cur)
    assert max(len(r) for r in runs) == 4 and sum(len(r) >= 3 for r in runs) >= 5
    sampler = ProblemGroupedSampler(groups, 4, seed=1)
    assert list(sampler) == order and list(sampler) != order and len(sampler) == 23  # new order each epoch
    with pytest.raises(ValueError, match="group_size"):
        problem_grouped_order(groups, 0, 0)


def test_orm_with_the_pairwise_term_trains_and_ranks_within_problems(tiny_lm_dir, tmp_path):
    data = write_outcomes(tmp_path / "o.jsonl", problems=24)
    cfg = ScorerTrainConfig(kind="orm", base=tiny_lm_dir, output_dir=str(tmp_path / "orm"), data=(str(data),),
                            lr=1e-3, head_lr=3e-3, max_steps=60, eval_steps=30, batch_size=8, val_fraction=0.25,
                            device="cpu", max_length=128, min_code_tokens=8, logging_steps=20, pair_weight=1.0,
                            group_size=4, dedupe=True, problems="mixed")
    res = train_scorer(cfg)
    assert res.report["programs"]["within_auc"] > 0.9, res.report["programs"]
    assert res.train_examples < 18 * 6  # repeats merged (the toy pools repeat programs)
    with pytest.raises(ValueError, match="group_size"):
        ScorerTrainConfig(kind="orm", base="b", output_dir="o", pair_weight=1.0, group_size=1)
