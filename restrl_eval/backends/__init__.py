"""Policy (LM) and scorer (reward / value model) backends.

The built-in backends are registered here as small factories that import their heavy
module only when called, so ``import restrl_eval.backends`` costs nothing and a CPU
install never imports vllm.
"""
from __future__ import annotations

import os
from typing import Any

# torch's CPU wheel uses GNU OpenMP, whose threads spin while waiting. On a machine
# whose cores are shared (CI runners, a laptop running the sandbox pool beside the
# model) spinning threads starve each other: SmolLM2 on 2 busy cores measured 2 tok/s
# with spinning threads against 13-20 tok/s with sleeping ones. libgomp reads this
# variable when it loads, so it is set when this package is imported, before any torch
# import it makes; a user's own OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from restrl_eval.backends.base import (
    AGGREGATIONS,
    DEFAULT_SCORER_LAYOUT,
    POLICY_BACKENDS,
    SCORER_BACKENDS,
    BackendError,
    Generation,
    GenerationRequest,
    Policy,
    Scorer,
    aggregate,
    load_policy,
    load_scorer,
    split_steps,
)

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_SCORER_LAYOUT",
    "POLICY_BACKENDS",
    "SCORER_BACKENDS",
    "BackendError",
    "Generation",
    "GenerationRequest",
    "Policy",
    "Scorer",
    "aggregate",
    "load_policy",
    "load_scorer",
    "split_steps",
]


@POLICY_BACKENDS.register("transformers", "hf")
def _transformers_policy(spec: str, **kw: Any) -> Policy:
    """Hugging Face transformers on CPU or GPU (checkpoint dir or alias)."""

    from restrl_eval.backends.transformers_backend import TransformersPolicy

    return TransformersPolicy.load(spec, **kw)


@POLICY_BACKENDS.register("vllm")
def _vllm_policy(spec: str, **kw: Any) -> Policy:
    """vLLM offline engine (GPU extra: pip install .[vllm])."""

    from restrl_eval.backends.vllm_backend import VLLMPolicy

    return VLLMPolicy.load(spec, **kw)


@POLICY_BACKENDS.register("openai")
def _openai_policy(spec: str, **kw: Any) -> Policy:
    """Any OpenAI-compatible server (URL, or a comma list of URLs as a fleet)."""

    from restrl_eval.backends.openai_backend import OpenAIPolicy

    return OpenAIPolicy.load(spec, **kw)


@SCORER_BACKENDS.register("transformers", "hf")
def _transformers_scorer(path: str, **kw: Any) -> Scorer:
    """A restrl-trained (or any sequence-classification) scorer checkpoint."""

    from restrl_eval.backends.scorer import TransformersScorer

    return TransformersScorer.load(path, **kw)


@SCORER_BACKENDS.register("chat-orm")
def _chat_orm_scorer(path: str, **kw: Any) -> Scorer:
    """Off-the-shelf chat-template ORM (sequence classification over a chat)."""

    from restrl_eval.backends.chat_scorer import ChatORMScorer

    return ChatORMScorer.load(path, **kw)


@SCORER_BACKENDS.register("token-prm")
def _token_prm_scorer(path: str, **kw: Any) -> Scorer:
    """Off-the-shelf token-level PRM (step separator token, positive-class probability)."""

    from restrl_eval.backends.token_prm import TokenPRMScorer

    return TokenPRMScorer.load(path, **kw)
