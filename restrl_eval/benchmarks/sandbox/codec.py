"""The value codec, harness side: one import for what the sandbox parts define.

The codec is three standalone text parts (``encode.py``, ``decode.py``, ``digest.py``)
because drivers inline them into the sandbox, where restrl cannot be imported; the
harness imports the same definitions from here. Format and semantics: ``README.md``.
"""
from restrl_eval.benchmarks.sandbox.decode import DecodeError, Opaque, OpaqueIterable, decode, is_clean
from restrl_eval.benchmarks.sandbox.digest import canon_digest, form_digest, json_size_over, numeric_sequence_digest
from restrl_eval.benchmarks.sandbox.encode import make_encoder

__all__ = ["DecodeError", "Opaque", "OpaqueIterable", "canon_digest", "decode", "form_digest", "is_clean",
           "json_size_over", "make_encoder", "numeric_sequence_digest"]
