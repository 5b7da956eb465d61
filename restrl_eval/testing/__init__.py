"""Helpers for tests of restrl and of its plugins: tiny real models built offline."""
from restrl_eval.testing.tiny_models import (
    CHATML_TEMPLATE,
    build_tiny_lm,
    build_tiny_scorer,
    build_tiny_tokenizer,
    fit_scorer,
    tiny_corpus,
)

__all__ = [
    "CHATML_TEMPLATE",
    "build_tiny_lm",
    "build_tiny_scorer",
    "build_tiny_tokenizer",
    "fit_scorer",
    "tiny_corpus",
]
