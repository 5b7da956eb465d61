"""The backend contract: policies that write code and scorers that judge it.

Why this shape: every strategy (greedy, best-of-N, MCTS) talks to the language model
only through ``Policy.generate`` and to reward/value models only through ``Scorer``, so
one strategy runs unchanged on a local transformers checkpoint, an offline vLLM engine
or a remote OpenAI-compatible server. Requests are plain frozen records (hashable,
loggable) and the backends batch them however suits their engine. This module imports
no heavy library: torch, transformers, vllm and httpx are imported by the backend that
is chosen, never by the harness that merely names one.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from restrl_eval.registry import Registry

DEFAULT_SCORER_LAYOUT = "\n<prompt>\n{problem}\n<answer>\n{code}\n"
"""Input layout of the official ReST-RL value models (THUDM/ReST-RL)."""

FINISH_REASONS = ("stop", "length", "eos")


class BackendError(RuntimeError):
    """A backend cannot be loaded or cannot answer (bad path, missing extra, server error).

    ``str()`` is a one-line message fit for the CLI.
    """


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt to complete ``n`` times.

    ``prefix`` is partial solution code to continue from (MCTS states): in chat mode it
    follows the assistant's prefill, in completion mode it follows the prompt.
    ``prefill`` is the text the assistant turn opens with in chat mode: None for the code
    fence (``prompting.CODE_FENCE``), ``""`` for none (the model answers the bare
    instruction), or a benchmark's official reply opening (``--prefill``).
    """

    prompt: str
    prefix: str = ""
    chat: bool = True
    n: int = 1
    temperature: float = 0.0  # 0 => greedy
    top_p: float = 1.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ("```",)
    seed: int | None = None
    prefill: str | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"GenerationRequest.n must be >= 1, got {self.n}")
        if self.max_tokens < 1:
            raise ValueError(f"GenerationRequest.max_tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"GenerationRequest.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"GenerationRequest.top_p must be in (0, 1], got {self.top_p}")
        if isinstance(self.stop, str):  # a bare string would be split into characters
            object.__setattr__(self, "stop", (self.stop,))
        if any(not s for s in self.stop):
            raise ValueError("GenerationRequest.stop must not contain an empty string")


@dataclass(frozen=True)
class Generation:
    """One completion: the continuation only (after the prefix), stop string removed."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" | "length" | "eos"


@runtime_checkable
class Policy(Protocol):
    """A language model that writes code."""

    name: str

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        """``n`` generations per request, in request order; batched as the engine likes."""
        ...

    def describe(self) -> dict[str, Any]:
        """What a run records to be reproducible: model id/path, weights sha256, backend, dtype."""
        ...


@runtime_checkable
class Scorer(Protocol):
    """A reward / value model on (problem, code) pairs.

    Attributes every scorer carries, because strategies read them:

    - ``probabilities``: True when ``score``/``score_steps`` return probabilities in
      [0, 1] (a sigmoid head, a token PRM's positive-class probability); False for raw
      outputs (a regression value model, a reward model's logit). ``prm`` with ``prod``
      multiplies probabilities, so it applies a sigmoid to raw outputs first.
    - ``problem_field``: what fills ``{problem}``: ``"prompt"`` (the policy's prompt) or
      ``"raw"`` (the task's own problem text, what the official value model read).
    - ``calls`` and ``tokens``: rows the model has read and their input tokens, counted
      by the scorer itself since the cost of a text depends on the scorer (a token PRM
      reads a program once, a sequence classifier once per line prefix). Strategies
      charge each task the growth of these counters.
    """

    probabilities: bool
    problem_field: str
    calls: int
    tokens: int

    def score(self, problem: str, programs: Sequence[str]) -> list[float]:
        """Outcome reward of each complete program (ORM); one batched call."""
        ...

    def score_steps(self, problem: str, lines: Sequence[str]) -> list[float]:
        """Process reward of each line-prefix state ``lines[:i+1]`` (PRM)."""
        ...

    def value(self, problem: str, partial_programs: Sequence[str]) -> list[float]:
        """Expected final reward of each partial program (VM), in [0, 1]."""
        ...

    def describe(self) -> dict[str, Any]:
        ...


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _prod(xs: Sequence[float]) -> float:
    return math.prod(xs)


AGGREGATIONS: dict[str, Callable[[Sequence[float]], float]] = {
    "min": min,
    "last": lambda xs: xs[-1],
    "mean": lambda xs: sum(xs) / len(xs),
    "prod": _prod,
}
"""How per-step PRM scores become one score; the paper uses ``min``."""

SCALES = ("prob", "raw")


def aggregate(step_scores: Sequence[float], how: str = "min", *, scale: str = "prob") -> float:
    """One score from per-step scores. An empty program scores ``-inf`` and a program with
    a NaN step (a step the scorer could not read) NaN: both rank last.

    ``min``, ``last`` and ``mean`` work on the scorer's own scale. ``prod`` is the
    probability that every step is right, so it multiplies probabilities: with
    ``scale="prob"`` the scores must lie in [0, 1]; with ``scale="raw"`` (a scorer whose
    outputs are raw, ``Scorer.probabilities`` False) each score goes through a sigmoid
    first. Multiplying raw outputs would rank two negative steps (-2 x -3 = 6) above two
    good ones (0.5 x 0.5).
    """
    try:
        fn = AGGREGATIONS[how]
    except KeyError:
        raise ValueError(
            f"unknown aggregation {how!r} (known: {', '.join(AGGREGATIONS)})"
        ) from None
    if scale not in SCALES:
        raise ValueError(f"unknown score scale {scale!r} (known: {', '.join(SCALES)})")
    if len(step_scores) == 0:
        return float("-inf")
    xs = [float(x) for x in step_scores]
    if any(math.isnan(x) for x in xs):  # a step without a score: no aggregate (ranked last)
        return math.nan
    if how == "prod":
        if scale == "raw":
            xs = [_sigmoid(x) for x in xs]
        elif any(not 0.0 <= x <= 1.0 for x in xs):
            bad = next(x for x in xs if not 0.0 <= x <= 1.0)
            raise ValueError(f"prod aggregation multiplies probabilities; got step score {bad} "
                             "(raw scorer outputs need scale='raw')")
    return float(fn(xs))


def split_steps(code: str) -> list[str]:
    """Process steps of a program: one per non-blank line.

    Blank lines are glued to the line that follows them (and trailing blank lines are
    dropped), so ``"\\n".join(steps[:i])`` is always an exact prefix of the program and no
    scorer call is spent on a state that only adds whitespace. Here, beside the scorer
    contract, because strategies and token-level PRMs must cut programs the same way.
    """
    steps: list[str] = []
    pending: list[str] = []
    for line in code.split("\n"):
        pending.append(line)
        if line.strip():
            steps.append("\n".join(pending))
            pending = []
    return steps


POLICY_BACKENDS: Registry[Callable[..., Policy]] = Registry("policy backend", "restrl.policy_backends")
"""Maps a backend name to ``factory(spec, **kw) -> Policy``."""

SCORER_BACKENDS: Registry[Callable[..., Scorer]] = Registry("scorer backend", "restrl.scorer_backends")
"""Maps a backend name to ``factory(path, **kw) -> Scorer``."""


def load_policy(spec: str, backend: str = "transformers", **kw: Any) -> Policy:
    """Build a policy. ``spec``: a local checkpoint dir, a known alias (``smollm2-135m``),
    or, for ``openai``, a server URL (``http://host:8000/v1``, ``...#model-name``)."""
    import restrl_eval.backends  # noqa: F401  (registers the built-in backends)

    return POLICY_BACKENDS.get(backend)(spec, **kw)


def load_scorer(path: str, backend: str = "transformers", **kw: Any) -> Scorer:
    """Build a scorer. ``transformers``: an ``AutoModelForSequenceClassification(num_labels=1)``
    directory (a restrl-trained one carries ``restrl_scorer.json``); ``chat-orm``: a
    sequence classifier read over the checkpoint's chat template; ``token-prm``: a
    causal LM or token classifier read at a step separator after every line."""
    import restrl_eval.backends  # noqa: F401

    return SCORER_BACKENDS.get(backend)(path, **kw)
