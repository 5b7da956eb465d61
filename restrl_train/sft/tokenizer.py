"""A byte-level BPE tokenizer, trained on the fly, whose tokens never cross a newline.

Why split at newlines: restrl's line-level search (MCTS states, PRM steps, value-model
states) cuts programs at line ends. If a BPE merge could join the end of one line with
the start of the next, the tokens of a line prefix would differ from the first tokens of
the whole program, and every partial state would be out of the policy's distribution.
With a newline split before the byte-level step, ``encode(prefix_lines)`` is always a
prefix of ``encode(all_lines)`` (a tested property).

Special tokens: ``<|pad|>`` (padding; distinct from EOS so a sequence classifier can
find the last real token and the loss can tell padding from the end of an answer) and
``<|endoftext|>`` (EOS). No BOS and no chat template: the tiny policy continues plain
completion prompts (``--prompt-style completion``).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

__all__ = ["EOS_TOKEN", "PAD_TOKEN", "train_line_tokenizer"]

PAD_TOKEN = "<|pad|>"
EOS_TOKEN = "<|endoftext|>"


def train_line_tokenizer(texts: Iterable[str], vocab_size: int = 4096,
                         out_dir: str | os.PathLike[str] | None = None) -> Any:
    """Train on ``texts`` and return a ``PreTrainedTokenizerFast`` (saved to ``out_dir``
    when given). Deterministic: the same texts in the same order give the same vocabulary."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 300:
        raise ValueError(f"vocab_size must be at least 300 (256 bytes + specials), got {vocab_size}")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split("\n", behavior="merged_with_previous"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD_TOKEN, EOS_TOKEN],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS_TOKEN, pad_token=PAD_TOKEN,
                                   unk_token=None, clean_up_tokenization_spaces=False)
    if out_dir is not None:
        fast.save_pretrained(str(out_dir))
    return fast
