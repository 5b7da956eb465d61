"""ReST-GRPO data builder: the sigma0 filter, the r0 gate, the prefix distribution, the
official draw reproduced, and prompts never truncated through the problem."""
from __future__ import annotations

import math
import random
from typing import Any

import pytest

from restrl_train.grpo.builder import (
    BuildOptions,
    SampleGroup,
    build_records,
    draw_prefixes,
    group_std,
    prefix_candidates,
    to_dataset,
)

ALPHA = 0.95


def render(problem: str, state: str) -> str:
    return f"<q>{problem}</q>```python\n{state}"


def program(n_lines: int) -> str:
    return "".join(f"x{i} = {i}\n" for i in range(n_lines))


def group(rewards, completions=None, task_id="t", problem="P") -> SampleGroup:
    completions = completions or [program(4)] * len(rewards)
    return SampleGroup(task_id, "tasks", problem, '["assert True"]', tuple(completions), tuple(rewards))


OFFICIAL: dict[str, Any] = dict(replace=True, include_full=True, keep_blank=True)


def test_group_std_is_population_std():
    assert group_std([0, 1]) == pytest.approx(0.5)  # numpy's np.std, not the sample std (0.707)


def test_sigma0_drops_flat_groups_and_keeps_spread_ones():
    groups = [group([0.5] * 5, task_id="flat"), group([0, 0, 0, 0, 0.1], task_id="below"),  # std 0.04
              group([0, 0, 0, 0, 0.2], task_id="above"), group([0, 1, 0, 1, 0], task_id="spread")]  # 0.08, 0.49
    records, stats = build_records(groups, render, BuildOptions())
    assert {r.task_id for r in records} == {"above", "spread"}
    assert stats.dropped_low_std == 2
    base = [r for r in records if r.prefix_lines == 0]
    assert [r.prompt for r in base] == [render("P", "")] * 2  # the base prompt is kept as is
    assert base[0].group_std == pytest.approx(0.08)


def test_r0_gate():
    low, _ = build_records([group([0, 0.85, 0, 0, 0])], render, BuildOptions())
    high, stats = build_records([group([0, 0.9, 0, 0, 0])], render, BuildOptions())
    assert [r.prefix_lines for r in low] == [0]
    assert len(high) > 1 and all(r.prefix_lines > 0 for r in high[1:])
    assert high[0].best_reward == pytest.approx(0.9)
    assert stats.prefix_records == len(high) - 1


def test_prefixes_come_from_the_first_best_sample_at_line_boundaries():
    best, other = "a = 1\nb = 2\nc = 3\nd = 4\n", "z = 0\n"
    records, _ = build_records([group([0, 1.0, 1.0], [other, best, other])], render, BuildOptions(seed=3))
    for r in records[1:]:
        assert best.startswith(r.partial_state) and r.partial_state.endswith("\n")
        assert r.partial_state.count("\n") == r.prefix_lines
        assert r.prompt == render("P", r.partial_state)
    assert len(records) - 1 == math.ceil(0.5 * 4) - 0  # k = ceil(0.5 L) = 2 of the 3 admissible j


def test_default_draw_excludes_full_solution_and_blank_or_comment_prefixes():
    prog = "def f(x):\n\n    # comment\n    y = x\n    \n    return y\n"
    js, n = prefix_candidates(prog, include_full=False, keep_blank=False)
    assert n == 6 and js == [1, 4]
    for seed in range(200):
        records, _ = build_records([group([0, 1.0], [prog, prog])], render, BuildOptions(seed=seed))
        for r in records[1:]:
            assert r.prefix_lines < n
            last = r.partial_state.rstrip("\n").split("\n")[-1].strip()
            assert last and not last.startswith("#")
        lines = [r.prefix_lines for r in records[1:]]
        assert len(lines) == len(set(lines))  # without replacement


def test_official_mode_reproduces_random_choices_with_the_same_rng():
    L, seed = 23, 7
    records, _ = build_records([group([0.2, 1.0], [program(L)] * 2)], render, BuildOptions(seed=seed, **OFFICIAL))
    drawn = [r.prefix_lines for r in records[1:]]
    recs = list(range(1, L + 1))
    expected = random.Random(seed).choices(recs, weights=[ALPHA ** (j - 1) for j in recs], k=math.ceil(0.5 * L))
    assert drawn == expected
    assert len(set(drawn)) < len(drawn)  # with replacement: this seed repeats a prefix


def test_official_mode_may_draw_the_full_solution():
    L = 3
    full = 0
    for seed in range(300):
        records, _ = build_records([group([0, 1.0], [program(L)] * 2)], render, BuildOptions(seed=seed, **OFFICIAL))
        full += sum(r.prefix_lines == L for r in records[1:])
    assert full > 0


def _chi2_p(counts, probs):
    from scipy.stats import chisquare

    total = sum(counts)
    return chisquare(counts, [p * total for p in probs]).pvalue


def test_prefix_distribution_matches_alpha_powers():
    """Official draws are iid with p(j) = alpha^(j-1) / sum; the default's first draw has
    the same law over j < L. A uniform law is rejected by the same test."""
    L = 30
    groups = [group([0.3, 1.0], [program(L)] * 2, task_id=f"t{i}") for i in range(1500)]
    official, _ = build_records(groups, render, BuildOptions(seed=11, **OFFICIAL))
    counts = [0] * L
    for r in official:
        if r.prefix_lines:
            counts[r.prefix_lines - 1] += 1
    w = [ALPHA ** j for j in range(L)]
    assert _chi2_p(counts, [x / sum(w) for x in w]) > 1e-3
    assert _chi2_p(counts, [1 / L] * L) < 1e-6

    default, _ = build_records(groups, render, BuildOptions(seed=12))
    first = [0] * (L - 1)
    for prev, r in zip(default, default[1:]):
        if prev.prefix_lines == 0 and r.prefix_lines:
            first[r.prefix_lines - 1] += 1
    w = [ALPHA ** j for j in range(L - 1)]
    assert sum(first) == 1500
    assert _chi2_p(first, [x / sum(w) for x in w]) > 1e-3


def test_draws_are_seeded():
    groups = [group([0.3, 1.0], [program(20)] * 2, task_id=f"t{i}") for i in range(5)]
    a = [r.prefix_lines for r in build_records(groups, render, BuildOptions(seed=1))[0]]
    b = [r.prefix_lines for r in build_records(groups, render, BuildOptions(seed=1))[0]]
    c = [r.prefix_lines for r in build_records(groups, render, BuildOptions(seed=2))[0]]
    assert a == b != c


def test_without_replacement_caps_k_at_the_admissible_prefixes():
    assert sorted(draw_prefixes(random.Random(0), [1, 2, 3], 10, ALPHA, replace=False)) == [1, 2, 3]


def test_too_long_prompts_are_shortened_on_the_code_side_or_dropped():
    count = len
    prog = program(12)
    long_problem = "Q" * 500
    limit = len(render("P", "")) + len(prefix := "".join(prog.splitlines(True)[:3]))
    groups = [group([0, 1.0], [prog] * 2, task_id="ok"), group([0, 1.0], [prog] * 2, task_id="long", problem=long_problem)]
    opts = BuildOptions(seed=0, max_prompt_tokens=limit)
    records, stats = build_records(groups, render, opts, count_tokens=count)
    assert {r.task_id for r in records} == {"ok"}  # the long problem is dropped, never cut
    assert stats.dropped_too_long >= 1
    for r in records:
        assert r.prompt.startswith("<q>P</q>") and count(r.prompt) <= limit
        assert r.prefix_lines <= 3 and prog.startswith(r.partial_state)
    assert prefix  # (the limit admits exactly three lines of code)


def test_grpo_and_dapo_modes():
    groups = [group([0.5] * 5, task_id="flat"), group([0, 0, 0, 0, 0.01], task_id="tiny"),
              group([0, 1.0, 1, 0, 1], task_id="spread")]
    basic, _ = build_records(groups, render, BuildOptions(mode="basic"))
    assert [(r.task_id, r.prefix_lines) for r in basic] == [("flat", 0), ("tiny", 0), ("spread", 0)]
    dapo, stats = build_records(groups, render, BuildOptions(mode="filter"))
    assert [(r.task_id, r.prefix_lines) for r in dapo] == [("tiny", 0), ("spread", 0)]  # only std == 0 dropped
    assert stats.dropped_low_std == 1
    with pytest.raises(ValueError):
        build_records(groups, render, BuildOptions(mode="nope"))


def test_dataset_columns():
    records, _ = build_records([group([0, 1.0])], render, BuildOptions())
    ds = to_dataset(records)
    assert ds.column_names[0] == "prompt"
    assert {"prompt", "partial_state", "tests", "task_id", "prefix_lines", "group_std", "best_reward"} <= set(
        ds.column_names)
    assert len(ds) == len(records)
