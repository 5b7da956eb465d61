"""The mini generator: deterministic, disjoint splits, well-formed tasks, fast."""
from __future__ import annotations

import ast
import time

import pytest

from restrl_eval.benchmarks import BenchmarkError, benchmark_names, get_benchmark
from restrl_eval.benchmarks.mini.families import FAMILIES
from restrl_eval.benchmarks.mini.generate import generate, generate_splits


def test_registered() -> None:
    assert {"mini-train", "mini-val", "mini-test"} <= set(benchmark_names())


def test_default_sizes_and_disjoint_prompts() -> None:
    splits = generate_splits()
    assert {k: len(v) for k, v in splits.items()} == {"train": 20000, "val": 2000, "test": 500}
    prompts = {k: {t.prompt for t in v} for k, v in splits.items()}
    assert all(len(prompts[k]) == len(splits[k]) for k in splits)  # no duplicate within a split
    assert not prompts["train"] & prompts["val"]
    assert not prompts["train"] & prompts["test"]
    assert not prompts["val"] & prompts["test"]


def test_deterministic_and_prefix_stable() -> None:
    a = generate("test", 200, seed=3)
    b = generate("test", 200, seed=3)
    assert a == b
    assert generate("test", 50, seed=3) == a[:50]  # a smaller split is a prefix
    assert generate("test", 50, seed=4) != a[:50]  # another seed, other tasks


def test_benchmark_options_resize_and_stay_disjoint() -> None:
    test = get_benchmark("mini-test", n=40).tasks()
    train = get_benchmark("mini-train", n=3000, test_n=40).tasks()
    assert len(test) == 40 and len(train) == 3000
    assert not {t.prompt for t in test} & {t.prompt for t in train}
    assert get_benchmark("mini-test", n=40).data_hash() == get_benchmark("mini-test", n=40).data_hash()
    assert get_benchmark("mini-test", n=40).data_hash() != get_benchmark("mini-test", n=41).data_hash()


def test_task_fields_and_spread_of_families() -> None:
    tasks = get_benchmark("mini-test").tasks()
    families = {t.data["family"] for t in tasks}
    assert families == set(FAMILIES)
    for t in tasks:
        assert t.prompt.startswith(f"def {t.entry_point}(") and t.prompt.endswith('"""\n')
        assert t.prompt.count(">>> ") >= 2  # 1-2 doctest examples, here always 2
        assert t.data["solution"] in t.data["solutions"]
        assert t.data["difficulty"] in (1, 2, 3)
        assert 4 <= len(t.data["tests"]) <= 6 and all(x.startswith("assert ") for x in t.data["tests"])
        ast.parse(t.prompt + t.data["solution"])
    lines = [len(t.data["solution"].strip("\n").split("\n")) for t in tasks]
    assert sum(1 for n in lines if n >= 3) / len(lines) > 0.6  # mostly multi-line solutions


def test_mix_option_and_bad_mix() -> None:
    only = get_benchmark("mini-test", n=30, mix="loop_sum=1,examples=1").tasks()
    assert {t.data["family"] for t in only} == {"loop_sum", "examples"}
    with pytest.raises(BenchmarkError, match="unknown task families nope"):
        get_benchmark("mini-test", mix="nope=1").tasks()


def test_generating_all_splits_takes_about_a_second() -> None:
    t0 = time.process_time()
    generate_splits({"test": 499})  # not cached: other sizes than the defaults
    assert time.process_time() - t0 < 5.0  # ~1 s of CPU; generous for a loaded machine
