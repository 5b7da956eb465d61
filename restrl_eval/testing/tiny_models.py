"""Tiny real models for tests: a causal LM and a reward/value scorer, built in seconds.

Why real and not mocked: the backends' hard parts (left padding and position ids, chat
templates, stop strings, per-row sampling, sequence-classification pooling) live in
transformers and tokenizers, and only a real checkpoint exercises them. These are
genuine checkpoint directories (``config.json``, safetensors, ``tokenizer.json`` with a
chat template), loaded by the same code path as any downloaded model, but with a few
hundred thousand random weights and a byte-level BPE vocabulary trained on the
HumanEval+ prompts shipped in the package, so nothing is downloaded.

Random weights are drawn with a larger-than-usual spread (``initializer_range``) so the
next-token distribution is peaked: greedy decoding then has clear winners and is not
at the mercy of floating-point noise from padding.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

_ARCHES = ("qwen2", "llama")


def tiny_corpus(limit: int | None = None) -> list[str]:
    """Code-like training text: HumanEval+ prompts with their reference solutions."""
    from restrl_eval.benchmarks.data import load_rows

    rows = load_rows("humaneval+")[:limit]
    return [r["prompt"] + r["canonical_solution"] for r in rows]


def build_tiny_tokenizer(out_dir: str | os.PathLike[str], vocab_size: int = 512) -> Any:
    """Train a byte-level BPE tokenizer (every byte encodable) and save it with a
    ChatML chat template. Returns the ``PreTrainedTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(tiny_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHATML_TEMPLATE
    fast.save_pretrained(str(out_dir))
    return fast


def _config(arch: str, tokenizer: Any, hidden: int, layers: int, init_range: float,
            **extra: Any) -> Any:
    if arch not in _ARCHES:
        raise ValueError(f"unknown tiny architecture {arch!r} (known: {', '.join(_ARCHES)})")
    from transformers import LlamaConfig, Qwen2Config

    cls = Qwen2Config if arch == "qwen2" else LlamaConfig
    return cls(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        initializer_range=init_range,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        **extra,
    )


def build_tiny_lm(out_dir: str | os.PathLike[str], arch: str = "qwen2", hidden: int = 64,
                  layers: int = 2, seed: int = 0, init_range: float = 0.25,
                  vocab_size: int = 512) -> Path:
    """Save a tiny random causal LM with its tokenizer into ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(out, vocab_size=vocab_size)
    torch.manual_seed(seed)
    config = _config(arch, tokenizer, hidden, layers, init_range)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    model.save_pretrained(str(out))
    log.info("tiny %s LM (%d params) saved to %s", arch, model.num_parameters(), out)
    return out


def build_tiny_scorer(out_dir: str | os.PathLike[str], tokenizer_dir: str | os.PathLike[str],
                      arch: str = "qwen2", hidden: int = 64, layers: int = 2, seed: int = 1,
                      init_range: float = 0.25) -> Path:
    """Save a tiny random ``AutoModelForSequenceClassification(num_labels=1)`` that
    shares the tokenizer saved in ``tokenizer_dir`` (as a value model shares its
    policy's vocabulary)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    tokenizer.save_pretrained(str(out))
    torch.manual_seed(seed)
    config = _config(arch, tokenizer, hidden, layers, init_range, num_labels=1)
    model = AutoModelForSequenceClassification.from_config(config)
    model.save_pretrained(str(out))
    return out


def fit_scorer(src_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str],
               texts: Sequence[str], targets: Sequence[float], steps: int = 150,
               lr: float = 3e-3, seed: int = 0) -> Path:
    """Fit a scorer checkpoint to ``targets`` on the exact input ``texts`` (MSE, full
    batch, AdamW) and save it to ``out_dir``.

    Why: a test of best-of-N needs a scorer whose ranking is known in advance; fitting
    a tiny real model to chosen targets gives one without mocking the scorer.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if len(texts) != len(targets) or not texts:
        raise ValueError("fit_scorer needs as many targets as texts (at least one)")
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(src_dir))
    tokenizer.padding_side = "right"
    model = AutoModelForSequenceClassification.from_pretrained(str(src_dir), dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    batch = tokenizer(list(texts), return_tensors="pt", padding=True)
    y = torch.tensor([float(t) for t in targets])
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        pred = model(**batch).logits.squeeze(-1)
        loss = torch.nn.functional.mse_loss(pred, y)
        loss.backward()
        opt.step()
    model.eval()
    log.info("fit_scorer: final mse %.5f after %d steps", loss.item(), steps)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out
