"""Turning a ``GenerationRequest`` into the exact text a local model continues.

Why shared: the transformers and vLLM backends must feed a model the same text for the
same request, or their runs would not be comparable. The official ReST-RL prompts use
the chat template and prefill the assistant turn with an opening code fence, so the
answer starts as code and the closing fence is the stop string; an MCTS state's partial
code follows that prefill.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from restrl_eval.backends.base import GenerationRequest

log = logging.getLogger(__name__)

__all__ = ["CODE_FENCE", "cut_at_stop", "render_prompt", "stop_window_tokens"]

CODE_FENCE = "```python\n"


def render_prompt(tokenizer: Any, request: GenerationRequest) -> tuple[str, bool]:
    """The text to continue and whether the tokenizer should add its special tokens.

    Chat mode renders the chat template (which already holds BOS and the role markers,
    hence no extra special tokens) and prefills the assistant turn with a code fence. A
    model without a template gets ``prompt + "\\n" + fence`` instead, so the answer
    still starts as code and stops at the closing fence.
    """
    if not request.chat:
        return request.prompt + request.prefix, True
    prefill = CODE_FENCE + request.prefix
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": request.prompt}]
        head = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return head + prefill, False
    log.debug("tokenizer has no chat template; using a plain code-fence prompt")
    return request.prompt.rstrip("\n") + "\n" + prefill, True


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, str | None]:
    """``text`` up to the earliest stop string, and that stop string (None if none)."""
    cut, found = len(text), None
    for s in stops:
        i = text.find(s)
        if i != -1 and i < cut:
            cut, found = i, s
    return text[:cut], found


def stop_window_tokens(stops: Sequence[str]) -> int:
    """How many trailing tokens surely contain a stop string just completed.

    Every token of a byte-level or sentencepiece vocabulary decodes to at least one byte,
    so a stop string of ``b`` UTF-8 bytes spans at most ``b`` tokens; one more covers a
    token that carries bytes before the stop string's first byte.
    """
    return max((len(s.encode("utf-8")) for s in stops), default=0) + 1
