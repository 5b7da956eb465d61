"""Offline vLLM policy (GPU): the engine the official ReST-RL code samples with.

Why offline ``LLM.generate``: one process, no server to manage, and vLLM's continuous
batching takes a whole benchmark's requests at once. Prompts are rendered by the same
``render_prompt`` as the transformers backend, so both feed a model identical text.
Each request carries its own ``SamplingParams(seed=...)``, so its samples do not depend
on the other requests in the call. ``vllm`` is imported only here, and only when this
backend is chosen; a CPU install without the extra gets a one-line hint.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from restrl_eval.backends.base import BackendError, Generation, GenerationRequest
from restrl_eval.backends.models import ModelSource, resolve_model
from restrl_eval.backends.prompting import cut_at_stop, render_prompt

log = logging.getLogger(__name__)

__all__ = ["VLLMPolicy", "import_vllm"]


def import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise BackendError(f"the vllm backend needs vLLM on a GPU machine: pip install 'restrl[vllm]' ({exc})") from None
    return vllm


class VLLMPolicy:
    """``Policy`` over ``vllm.LLM``."""

    name = "vllm"

    def __init__(self, llm: Any, source: ModelSource, dtype: str) -> None:
        self.llm, self.source, self.dtype = llm, source, dtype
        self.tokenizer = llm.get_tokenizer()

    @classmethod
    def load(cls, spec: str, dtype: str = "auto", seed: int = 0, gpu_memory_utilization: float = 0.85,
             max_model_len: int | None = None, tensor_parallel_size: int = 1,
             **engine_kw: Any) -> VLLMPolicy:
        vllm = import_vllm()
        source = resolve_model(spec)
        model = source.path
        kw: dict[str, Any] = dict(engine_kw)
        if source.gguf_file:  # vLLM reads a GGUF file path; the tokenizer comes from it too
            model = f"{source.path}/{source.gguf_file}"
            kw.setdefault("tokenizer", source.path)
        try:
            llm = vllm.LLM(model=model, dtype=dtype, seed=seed, gpu_memory_utilization=gpu_memory_utilization,
                           max_model_len=max_model_len, tensor_parallel_size=tensor_parallel_size, **kw)
        except Exception as exc:  # noqa: BLE001 (vLLM raises many kinds; the CLI needs one line)
            raise BackendError(f"vllm cannot load {source.name!r}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
        return cls(llm, source, dtype)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        vllm = import_vllm()
        prompts, params = [], []
        for r in requests:
            text, special = render_prompt(self.tokenizer, r)
            ids = self.tokenizer(text, add_special_tokens=special)["input_ids"]
            prompts.append({"prompt_token_ids": ids})
            params.append(vllm.SamplingParams(
                n=r.n, temperature=r.temperature, top_p=r.top_p, max_tokens=r.max_tokens,
                stop=list(r.stop) or None, seed=r.seed, skip_special_tokens=True,
            ))
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        result = []
        for r, out in zip(requests, outputs):
            gens = []
            for c in sorted(out.outputs, key=lambda c: c.index):
                text, matched = cut_at_stop(c.text, r.stop)  # vLLM already cut; harmless
                if c.finish_reason == "length":
                    reason = "length"
                elif matched is not None or isinstance(c.stop_reason, str):
                    reason = "stop"
                else:
                    reason = "eos"
                gens.append(Generation(text, len(out.prompt_token_ids), len(c.token_ids), reason))
            result.append(gens)
        return result

    def describe(self) -> dict[str, Any]:
        vllm = import_vllm()
        return {
            "backend": self.name,
            **self.source.describe(),
            "dtype": self.dtype,
            "vllm": vllm.__version__,
        }
