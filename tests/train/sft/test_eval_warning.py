"""SFT on an evaluation benchmark is flagged (and recorded next to the weights)."""
from restrl_train.sft.trainer import _eval_set_warning


def test_sft_on_an_evaluation_split_is_flagged(tmp_path):
    assert "mini-test" in (_eval_set_warning("mini-test") or "")
    assert "humaneval+" in (_eval_set_warning("humaneval+") or "")
    assert _eval_set_warning("mini-train") is None
    records = tmp_path / "mine.jsonl"
    records.write_text('{"prompt": "a", "solution": "b"}\n')
    assert _eval_set_warning(str(records)) is None
