"""Sandbox-side source text shared by the benchmark drivers, and the one way to assemble it.

A driver runs inside the sandboxed child (``restrl_eval/execution/_child.py``), where
restrl cannot be imported; it is sent as source text. ``driver_source(*parts)`` joins
standalone parts (each stdlib-only, no module-level imports of its siblings) into that
text, so every family builds its driver the same way, e.g.
``driver_source(*CODEC, STDIO, "evalplus/driver.py")``.
"""
from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["CODEC", "STDIO", "driver_source"]

CODEC = ("sandbox/encode.py", "sandbox/decode.py", "sandbox/digest.py")
"""The value codec's parts (``make_encoder``, ``decode``, ``canon_digest``, ...)."""
STDIO = "sandbox/stdio.py"
"""``swallow_stdio`` / ``WriteOnlyStringIO``: the reference harnesses' ``swallow_io``."""


@cache
def driver_source(*parts: str) -> str:
    """The source text of ``parts`` (paths relative to ``restrl_eval/benchmarks``), joined
    in order. Cached: the executor compiles a driver text once per distinct string."""
    root = resources.files("restrl_eval.benchmarks")
    return "\n\n".join(root.joinpath(part).read_text(encoding="utf-8") for part in parts)
