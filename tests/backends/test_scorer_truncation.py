"""The scorer backend reads an over-long input as the trainer did: the ``max_length``,
``truncation`` and ``min_code_tokens`` recorded in ``restrl_scorer.json`` are honoured, and
trainer (``restrl_train.scorer.encode.Encoder``) and backend (``TransformersScorer.encode``)
cut with the one function, ``scorer_io.encode_layout``, to the same token ids. Tiny real
checkpoint and tokenizer; the expected cut is worked out here from the tokenizer's offsets."""
from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("transformers")
pytest.importorskip("torch")

from restrl_eval.backends import DEFAULT_SCORER_LAYOUT, BackendError, load_scorer  # noqa: E402
from restrl_train.data.records import DataError  # noqa: E402
from restrl_train.scorer.encode import Encoder  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROBLEM = "Return the sum of a list of integers, ignoring negative ones."
CODE = "def total(xs):\n" + "".join(f"    x{i} = xs[{i}] if len(xs) > {i} else 0\n" for i in range(30)) + \
    "    return sum(v for v in xs if v > 0)\n"


def _trained(src: str, dst, **meta) -> str:
    shutil.copytree(src, dst)
    fields = {"format": 1, "kind": "vm", "layout": DEFAULT_SCORER_LAYOUT, "problem_field": "raw",
              "output": "sigmoid", **meta}
    (dst / "restrl_scorer.json").write_text(json.dumps(fields))
    return str(dst)


def _expected_cut(tokenizer, max_length: int) -> tuple[list[int], int]:
    text = DEFAULT_SCORER_LAYOUT.format(problem=PROBLEM, code=CODE)
    head = len(DEFAULT_SCORER_LAYOUT.split("{code}")[0].format(problem=PROBLEM))
    enc = tokenizer(text, add_special_tokens=True, return_offsets_mapping=True)
    k = next(i for i, (s, e) in enumerate(enc["offset_mapping"]) if s >= head and e > s)
    ids = enc["input_ids"]
    return ids[:k] + ids[len(ids) - (max_length - k):], k


def test_trainer_and_backend_cut_an_overlong_input_to_the_same_ids(tiny_scorer_dir, tmp_path):
    scorer = load_scorer(_trained(tiny_scorer_dir, tmp_path / "s", max_length=64, truncation="code-left",
                                  min_code_tokens=16), device="cpu")
    assert scorer.max_length == 64 and scorer.truncation == "code-left" and scorer.min_code_tokens == 16
    whole = scorer.tokenizer(DEFAULT_SCORER_LAYOUT.format(problem=PROBLEM, code=CODE))["input_ids"]
    assert len(whole) > 64  # over-long: the recorded limit, not the model's 4096, decides
    backend = scorer.encode(PROBLEM, CODE)
    trainer = Encoder(scorer.tokenizer, DEFAULT_SCORER_LAYOUT, 64, "code-left", 16)(PROBLEM, CODE)
    expected, k = _expected_cut(scorer.tokenizer, 64)
    assert backend == trainer == expected and len(backend) == 64
    assert backend[:k] == whole[:k] and backend[k:] == whole[-(64 - k):]  # the problem whole, the code's end
    assert scorer.describe()["max_length"] == 64 and scorer.describe()["truncation"] == "code-left"
    # an explicit option wins over the checkpoint's
    assert len(load_scorer(scorer.source.path, device="cpu", max_length=80).encode(PROBLEM, CODE)) == 80


def test_a_checkpoint_trained_with_refuse_refuses_at_inference_unless_told(tiny_scorer_dir, tmp_path):
    path = _trained(tiny_scorer_dir, tmp_path / "s", max_length=64, truncation="refuse", min_code_tokens=16)
    scorer = load_scorer(path, device="cpu")
    with pytest.raises(BackendError, match=r"more than max_length 64 \(truncation=refuse"):
        scorer.score(PROBLEM, [CODE])
    with pytest.raises(DataError, match=r"^x\.jsonl:3: input has \d+ tokens, more than max_length 64"):
        Encoder(scorer.tokenizer, DEFAULT_SCORER_LAYOUT, 64, "refuse")(PROBLEM, CODE, "x.jsonl:3")
    assert scorer.score(PROBLEM, ["return 1"])  # a short input is scored as ever
    relaxed = load_scorer(path, device="cpu", truncation="code-left")
    assert relaxed.encode(PROBLEM, CODE) == _expected_cut(relaxed.tokenizer, 64)[0]


def test_a_problem_too_long_for_the_recorded_room_keeps_the_input_end(tiny_scorer_dir, tmp_path):
    scorer = load_scorer(_trained(tiny_scorer_dir, tmp_path / "s", max_length=64, min_code_tokens=60),
                         device="cpu")
    whole = scorer.tokenizer(DEFAULT_SCORER_LAYOUT.format(problem=PROBLEM, code=CODE))["input_ids"]
    assert scorer.encode(PROBLEM, CODE) == whole[-64:]  # training refused it; a search cannot
    with pytest.raises(DataError, match="the problem alone takes"):
        Encoder(scorer.tokenizer, DEFAULT_SCORER_LAYOUT, 64, "code-left", 60)(PROBLEM, CODE)


@pytest.mark.parametrize("field, value", [("max_length", 0), ("max_length", "64"), ("truncation", "right"),
                                          ("min_code_tokens", True)])
def test_a_bad_length_setting_in_the_metadata_is_one_line(tiny_scorer_dir, tmp_path, field, value):
    path = _trained(tiny_scorer_dir, tmp_path / "s", **{field: value})
    with pytest.raises(BackendError, match=f"restrl_scorer.json: field '{field}'"):
        load_scorer(path, device="cpu")
