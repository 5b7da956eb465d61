"""Turning a ``GenerationRequest`` into the exact text a local model continues.

Why shared: the transformers and vLLM backends must feed a model the same text for the
same request, or their runs would not be comparable. The official ReST-RL prompts use
the chat template and prefill the assistant turn with a reply opening that ends in a code
fence ("Below is a self-contained Python script ...:\n```python\n"), so the answer starts
as code and the closing fence is the stop string; an MCTS state's partial code follows
that prefill. The run option ``--prefill`` picks the opening (``PREFILLS``): ``code`` (the
bare fence, the default since the first runs), ``official`` (the benchmark's own reply
opening) or ``none`` (no prefill: the model answers the instruction and the first fenced
block of its answer is the program).
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from restrl_eval.backends.base import BackendError, Generation, GenerationRequest

log = logging.getLogger(__name__)

__all__ = ["CODE_FENCE", "DEFAULT_PREFILL", "PREFILLS", "PrefilledPolicy", "cut_at_stop", "first_fenced_block",
           "official_prefill", "prefiller", "render_prompt", "stop_window_tokens", "with_prefill"]

CODE_FENCE = "```python\n"
PREFILLS = ("official", "code", "none")
DEFAULT_PREFILL = "code"


def render_prompt(tokenizer: Any, request: GenerationRequest) -> tuple[str, bool]:
    """The text to continue and whether the tokenizer should add its special tokens.

    Chat mode renders the chat template (which already holds BOS and the role markers,
    hence no extra special tokens) and prefills the assistant turn with the request's
    ``prefill`` (default: a code fence). A model without a template gets
    ``prompt + "\\n" + prefill`` instead, so the answer still starts as code and stops at
    the closing fence.
    """
    if not request.chat:
        return request.prompt + request.prefix, True
    prefill = (CODE_FENCE if request.prefill is None else request.prefill) + request.prefix
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


def first_fenced_block(text: str, prefix: str = "") -> str:
    """The body of the answer's first code block (to its end when unclosed), minus the
    prefix the model repeated; an answer without a fence is kept whole."""
    start = text.find("```")
    if start != -1:
        nl = text.find("\n", start)
        text = text[nl + 1:] if nl != -1 else ""
    if prefix and text.startswith(prefix):
        text = text[len(prefix):]
    return text


# -- the run option --prefill ---------------------------------------------------------------
def official_prefill(benchmark: Any, task: Any) -> str | None:
    """The assistant reply opening the benchmark's reference harness uses for ``task``,
    ending in the ```python fence (None when the benchmark defines none).

    Read from the task (``data["response_prefix"]``, APPS: it holds the starter code after
    the fence) or the benchmark (``response_prefix``, a method or an attribute: evalplus'
    and bigcodebench's "Below is a Python script with a self-contained function ...").
    """
    data = getattr(task, "data", None) or {}
    text = data.get("response_prefix") if isinstance(data, Mapping) else None
    if not isinstance(text, str):
        own = getattr(benchmark, "response_prefix", None)
        text = own(task) if callable(own) else own
    if not isinstance(text, str) or not text.strip():
        return None
    if "```" not in text:
        text = text.rstrip("\n") + "\n" + CODE_FENCE
    return text


def prefiller(benchmark: Any, tasks: Sequence[Any], style: str) -> Callable[[Any], Any]:
    """A function that gives a policy its chat requests opened by ``style`` (one of
    ``PREFILLS``), built before the model loads so a bad setting costs no load.

    ``code`` leaves a policy as it is (requests keep the default fence, as every run did
    before the option). Raises BackendError when ``official`` meets a benchmark without a
    reply opening, or two tasks share a prompt but not an opening.
    """
    if style not in PREFILLS:
        raise BackendError(f"--prefill must be one of {', '.join(PREFILLS)} (got {style!r})")
    if style == DEFAULT_PREFILL:
        return lambda policy: policy
    openings: dict[str, str] = {}
    if style == "official":
        owner: dict[str, str] = {}
        for t in tasks:
            text = official_prefill(benchmark, t)
            if text is None:
                raise BackendError(f"--prefill official: benchmark {getattr(benchmark, 'name', '?')!r} "
                                   f"defines no assistant reply opening (task {t.task_id})")
            prompt = benchmark.prompt(t, "chat")
            if openings.setdefault(prompt, text) != text:
                raise BackendError(f"--prefill official: tasks {owner[prompt]} and {t.task_id} share a prompt "
                                   "but not a reply opening")
            owner.setdefault(prompt, t.task_id)
    return lambda policy: PrefilledPolicy(policy, style, openings)


def with_prefill(policy: Any, benchmark: Any, tasks: Sequence[Any], style: str) -> Any:
    """``policy`` with its chat requests opened by ``style`` (see ``prefiller``)."""
    return prefiller(benchmark, tasks, style)(policy)


class PrefilledPolicy:
    """A policy whose chat requests open the assistant turn per ``--prefill``.

    Why a wrapper: the strategies build requests from a task's prompt and know nothing of
    prefills, and every backend (local or served) already renders a request's ``prefill``;
    the wrapper fills it in, so greedy, best-of-N and MCTS all get it. ``openings`` maps a
    chat prompt to its official opening. ``none`` sends no prefill and no stop string (the
    model's answer opens its own fence) and keeps the first fenced block, cut at the
    request's stop strings; it cannot continue an MCTS state in chat mode.
    """

    def __init__(self, policy: Any, style: str, openings: Mapping[str, str] | None = None) -> None:
        self.policy, self.style, self.openings = policy, style, dict(openings or {})

    def __getattr__(self, name: str) -> Any:  # name, tokenizer, describe, close, ...
        return getattr(self.policy, name)

    @property
    def prefix_refusal(self) -> str:
        if self.style == "none":
            return "with --prefill none the model answers the bare instruction; use --prefill code or official"
        return str(getattr(self.policy, "prefix_refusal", "it cannot continue a partial program"))

    def supports_prefix(self, chat: bool) -> bool:
        if chat and self.style == "none":
            return False
        inner = getattr(self.policy, "supports_prefix", None)
        return bool(inner(chat)) if callable(inner) else True

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        if any(r.chat and r.prefix and not self.supports_prefix(True) for r in requests):
            raise BackendError(f"a chat request with a prefix: {self.prefix_refusal}")
        sent = [self._request(r) for r in requests]
        results = self.policy.generate(sent)
        if self.style != "none":
            return list(results)
        return [[self._fenced(g, r) for g in gens] if r.chat else list(gens)
                for r, gens in zip(requests, results)]

    def _request(self, r: GenerationRequest) -> GenerationRequest:
        if not r.chat:
            return r
        if self.style == "none":
            return dataclasses.replace(r, prefill="", stop=())
        try:
            return dataclasses.replace(r, prefill=self.openings[r.prompt])
        except KeyError:
            raise BackendError("--prefill official: a prompt of no task of the run") from None

    @staticmethod
    def _fenced(g: Generation, r: GenerationRequest) -> Generation:
        text, matched = cut_at_stop(first_fenced_block(g.text), r.stop)
        reason = "stop" if matched is not None else g.finish_reason
        return dataclasses.replace(g, text=text, finish_reason=reason)
