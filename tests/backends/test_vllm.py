"""The vLLM backend: import guard on CPU installs, parity with transformers on a GPU."""
from __future__ import annotations

import importlib.util

import pytest

from restrl_eval.backends import BackendError, GenerationRequest, load_policy

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed")
def test_missing_vllm_is_a_one_line_hint(tiny_lm_dir):
    with pytest.raises(BackendError, match=r"pip install 'restrl\[vllm\]'") as info:
        load_policy(tiny_lm_dir, backend="vllm")
    assert "\n" not in str(info.value)


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_VLLM, reason="needs vllm")
def test_vllm_greedy_matches_transformers(tiny_lm_dir):
    """Same rendered prompt, same greedy text (fp32 on both engines), n and seeds honoured."""
    hf = load_policy(tiny_lm_dir, device="cuda", dtype="float32")
    vl = load_policy(tiny_lm_dir, backend="vllm", dtype="float32", gpu_memory_utilization=0.3,
                     enforce_eager=True)
    reqs = [GenerationRequest(p, max_tokens=16, stop=()) for p in ("Hi", "Write a sorting function.")]
    assert [[g.text for g in gs] for gs in vl.generate(reqs)] == \
        [[g.text for g in gs] for gs in hf.generate(reqs)]
    sampled = GenerationRequest("Hi", n=4, temperature=1.0, seed=3, max_tokens=8, stop=())
    a, b = vl.generate([sampled]), vl.generate([sampled])
    assert a == b and len(a[0]) == 4
    assert vl.describe()["sha256"] == hf.describe()["sha256"]
