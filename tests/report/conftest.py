"""Results folders shared by the report tests (built once per session: judging and the
tiny model's runs take seconds each on a small machine)."""
from __future__ import annotations

import pytest

from tests.report import _helpers as h


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def he_good(tmp_path_factory):
    """HumanEval+ reference solutions for 8 tasks: all pass."""
    return h.evaluate(tmp_path_factory.mktemp("he_good"), "good", "humaneval+", h.HE_TASKS)


@pytest.fixture(scope="session")
def mbpp_half(tmp_path_factory):
    """MBPP+ on 4 tasks, 2 of them broken on purpose."""
    return h.evaluate(tmp_path_factory.mktemp("mbpp"), "half", "mbpp+", h.MBPP_TASKS, {"Mbpp/3", "Mbpp/6"})


@pytest.fixture(scope="session")
def tiny_he_run(tmp_path_factory, tiny_lm_dir):
    """A greedy run of the tiny real model on the first 3 HumanEval+ tasks."""
    return h.tiny_run(tiny_lm_dir, tmp_path_factory.mktemp("tiny") / "run")
