"""The on-the-fly tokenizer: line prefixes are token prefixes; pad and EOS are distinct."""
from __future__ import annotations

import random

import pytest

pytest.importorskip("tokenizers")

from restrl_eval.benchmarks import get_benchmark  # noqa: E402
from restrl_train.sft.tokenizer import EOS_TOKEN, PAD_TOKEN, train_line_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def tok():
    tasks = get_benchmark("mini-val").tasks()[:500]
    return train_line_tokenizer([t.prompt + t.data["solution"] for t in tasks], vocab_size=1024)


def _prefix_property(tok, text: str) -> None:
    full = tok(text, add_special_tokens=False)["input_ids"]
    lines = text.split("\n")
    for k in range(1, len(lines)):
        prefix = "\n".join(lines[:k]) + "\n"
        ids = tok(prefix, add_special_tokens=False)["input_ids"]
        assert full[: len(ids)] == ids, (k, prefix)
        assert tok.decode(ids) == prefix


def test_line_prefixes_are_token_prefixes(tok) -> None:
    for t in get_benchmark("mini-test").tasks()[:100]:
        _prefix_property(tok, t.prompt + t.data["solution"])


def test_line_prefix_property_on_odd_text(tok) -> None:
    rng = random.Random(0)
    alphabet = "ab (){}:=\t \n\n xyzé漢0123456789#\"'"
    for _ in range(200):
        _prefix_property(tok, "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))))


def test_special_tokens(tok) -> None:
    assert tok.pad_token == PAD_TOKEN and tok.eos_token == EOS_TOKEN
    assert tok.pad_token_id != tok.eos_token_id
    assert tok("x = 1\n")["input_ids"] == tok("x = 1\n", add_special_tokens=False)["input_ids"]  # no BOS
    assert len(tok) == 1024


def test_deterministic() -> None:
    texts = [t.prompt + t.data["solution"] for t in get_benchmark("mini-test").tasks()[:200]]
    a, b = train_line_tokenizer(texts, 600), train_line_tokenizer(texts, 600)
    assert a.get_vocab() == b.get_vocab()
