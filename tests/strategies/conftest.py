"""Fixtures the strategy tests share: the tiny real scorer and the arith-test benchmark."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def scorer(tiny_scorer_dir):
    from restrl_eval.backends import load_scorer

    return load_scorer(str(tiny_scorer_dir))


@pytest.fixture(scope="module")
def bench():
    from tests._run_bench import ArithBench

    return ArithBench()
