"""A restrl scorer directory in vLLM's pooling runner gives the scores the transformers
scorer gives (GPU only: ``pytest -m gpu tests/backends/test_scorer_vllm.py``).

What it pins down: vLLM's ``classify`` task on a one-label ``*ForSequenceClassification``
applies a sigmoid (unless ``config.problem_type == "regression"``), which is what
``"output": "sigmoid"`` in ``restrl_scorer.json`` tells the transformers scorer to do;
the served endpoint is ``vllm serve DIR --runner pooling`` + ``POST /classify``.
"""
from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

from restrl_eval.backends import load_scorer

HAS_VLLM = importlib.util.find_spec("vllm") is not None

PROBLEM = "Return the sum of a list of integers."
PROGRAMS = ["def total(xs):\n    return sum(xs)", "def total(xs):\n    return 0", "x = 1"]


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_VLLM, reason="needs vllm")
def test_vllm_pooling_runner_scores_a_restrl_scorer_like_transformers(tiny_scorer_dir, tmp_path):
    from vllm import LLM

    out = tmp_path / "trained"
    shutil.copytree(tiny_scorer_dir, out)
    (out / "restrl_scorer.json").write_text(json.dumps({"kind": "vm", "output": "sigmoid", "problem_field": "raw"}))
    hf = load_scorer(str(out), device="cuda", dtype="float32")
    texts = [hf.layout.format(problem=PROBLEM, code=p) for p in PROGRAMS]
    want = hf.score(PROBLEM, PROGRAMS)
    llm = LLM(model=str(out), runner="pooling", dtype="float32", enforce_eager=True, gpu_memory_utilization=0.3)
    got = [float(o.outputs.probs[0]) for o in llm.classify(texts)]
    assert got == pytest.approx(want, abs=1e-3)
