"""How an APPS problem is put to a model, and how its answer becomes a program.

Why selectable styles: APPS scores move with the prompt, so a run must say which one it
used and reproduce the reference's exactly.

* ``restrl`` (default) — ReST-RL's ``APPSFormatter`` (THUDM/ReST-RL ``prompts/
  formatters.py``): a user message asking for a self-contained script "using Standard
  Input format" or "using Call-Based format" (chosen by whether the tests name a
  ``fn_name``), then an assistant reply *prefilled* with an opening ```python fence and
  the problem's starter code (ReST-RL's "initial state"); generation stops at the
  closing fence and the program is ``starter code + generated text`` (its
  ``format_sample``). Without a chat template the two parts are joined by a newline,
  as ReST-RL's ``make_raw_chat_prompt`` does.
* ``apps`` — the original APPS paper's prompt (hendrycks/apps ``generate_gpt_codes.py``):
  ``QUESTION:``, the question, the starter code, "Use Standard Input format" /
  "Use Call-Based format", ``ANSWER:``; the whole answer is the program.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PROMPT_STYLES", "AppsPrompt", "format_prompt", "extract_program"]

PROMPT_STYLES = ("restrl", "apps")

_RESTRL_ASK = ("Please provide a self-contained Python script using {fmt} that solves the following problem "
               "in a markdown code block.\nProblem: ")
_RESTRL_REPLY = ("Below is a self-contained Python script that solves the problem and realizes requested "
                 "functionalities:\n```python\n")
_OPEN_FENCE = re.compile(r"^[ \t]*```[ \t]*(?:python3?|py)[ \t]*\r?\n", re.M | re.I)
_BARE_OPEN_FENCE = re.compile(r"\A\s*```[ \t]*\r?\n")


@dataclass(frozen=True)
class AppsPrompt:
    """``instruction``: the user message (chat form). ``response_prefix``: text the
    assistant turn starts with (a prefill; empty when none). ``completion``: the single
    text a completion model continues. ``initial_state``: code the program starts with
    before the model's text. ``stop``: stop strings."""

    style: str
    instruction: str
    response_prefix: str
    completion: str
    initial_state: str
    stop: tuple[str, ...]


def format_prompt(question: str, starter_code: str, call_based: bool, style: str = "restrl") -> AppsPrompt:
    if style == "restrl":
        fmt = "Call-Based format" if call_based else "Standard Input format"
        ask = _RESTRL_ASK.format(fmt=fmt) + question
        reply = _RESTRL_REPLY + starter_code
        return AppsPrompt(style, ask, reply, ask + "\n" + reply, starter_code, ("```",))
    if style == "apps":
        text = "\nQUESTION:\n" + question
        if starter_code:
            text += "\n" + starter_code
        text += "\nUse Call-Based format" if call_based else "\nUse Standard Input format"
        text += "\nANSWER:\n"
        return AppsPrompt(style, text, "", text, "", ())
    raise ValueError(f"unknown APPS prompt style {style!r} (known: {', '.join(PROMPT_STYLES)})")


def extract_program(text: str, prompt: AppsPrompt) -> str:
    """The program in a model's ``text``.

    A text that opens its own fence (a line ```python, or a bare ``` first line) is a
    whole answer: the fenced block is the program. Otherwise the text continues the
    prompt (the usual case with the prefill): it is cut at the first ``` and, in the
    ``restrl`` style, appended to the starter code with trailing blanks removed —
    ReST-RL's ``initial_state + sample.split("```")[0].rstrip()`` — unless the text
    itself contains the starter's first line (the model wrote the whole program).
    """
    m = _OPEN_FENCE.search(text) or _BARE_OPEN_FENCE.match(text)
    if m is not None:
        return text[m.end():].split("```")[0].rstrip()
    body = text.split("```")[0].rstrip()
    return body if _restates(prompt.initial_state, body) else prompt.initial_state + body


def _restates(initial_state: str, body: str) -> bool:
    """Did the model write the starter's header line itself (so the starter must not be
    prepended)? This happens when a backend prefills only the code fence, not the
    starter code."""
    header = next((line.strip() for line in initial_state.splitlines() if line.strip()), "")
    return not header or any(line.strip() == header for line in body.splitlines())
