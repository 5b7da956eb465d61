"""The default policy: a local transformers checkpoint, CPU or GPU.

Why batched this way: every request is rendered to text (chat template plus code-fence
prefill, see ``prompting``), expanded into one row per sample, and rows of similar
prompt length are left-padded into one ``generate`` call. transformers derives position
ids from the attention mask, so a padded row generates what it would alone. Sampling and
stopping are per row (``hf_generation``), so requests with different temperatures, seeds,
stop strings and token budgets share a batch, and a request's samples do not depend on
its neighbours. A greedy request asking for ``n > 1`` is decoded once and copied.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from restrl_eval.backends.base import BackendError, Generation, GenerationRequest
from restrl_eval.backends.models import (
    ModelSource,
    load_causal_lm,
    load_tokenizer,
    pick_device,
    resolve_model,
)
from restrl_eval.backends.prompting import cut_at_stop, render_prompt

log = logging.getLogger(__name__)

__all__ = ["PromptJob", "TransformersPolicy"]


@dataclass(frozen=True)
class PromptJob:
    """A fully rendered prompt: what the server and ``generate`` both reduce to."""

    text: str
    add_special_tokens: bool
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class _Row:
    job: int
    sample: int
    ids: tuple[int, ...]
    temperature: float
    top_p: float
    max_tokens: int
    stop: tuple[str, ...]
    seed: int


class TransformersPolicy:
    """``Policy`` over a ``transformers`` causal LM."""

    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, source: ModelSource,
                 max_batch_size: int | None = None) -> None:
        from transformers import GenerationConfig

        self.model, self.tokenizer, self.source = model, tokenizer, source
        self.device = str(model.device)
        self.max_batch_size = max_batch_size or (64 if self.device.startswith("cuda") else 16)
        self.eos_ids = _eos_ids(model, tokenizer)
        # The harness sets every sampling parameter itself: a checkpoint's own defaults
        # (repetition penalty, top_k, ...) would make runs differ across backends.
        model.generation_config = GenerationConfig(
            eos_token_id=self.eos_ids, pad_token_id=tokenizer.pad_token_id,
            bos_token_id=getattr(model.generation_config, "bos_token_id", None),
        )

    @classmethod
    def load(cls, spec: str, dtype: str | None = "auto", device: str | None = None,
             max_batch_size: int | None = None, threads: int | None = None,
             **unused: Any) -> TransformersPolicy:
        """``threads`` sets torch's CPU thread count (process-wide); None keeps torch's."""
        if unused:
            raise BackendError(f"transformers backend: unknown option(s) {', '.join(sorted(unused))}")
        if threads:
            import torch

            torch.set_num_threads(threads)
        source = resolve_model(spec)
        tokenizer = load_tokenizer(source, padding_side="left")
        model = load_causal_lm(source, dtype=dtype, device=pick_device(device))
        return cls(model, tokenizer, source, max_batch_size=max_batch_size)

    # -- the Policy interface -------------------------------------------------------
    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        jobs = []
        for r in requests:
            text, special = render_prompt(self.tokenizer, r)
            jobs.append(PromptJob(text, special, r.n, r.temperature, r.top_p, r.max_tokens,
                                  tuple(r.stop), r.seed))
        return self.generate_prompts(jobs)

    def describe(self) -> dict[str, Any]:
        import torch
        import transformers

        return {
            "backend": self.name,
            **self.source.describe(),
            "dtype": str(self.model.dtype).replace("torch.", ""),
            "device": self.device,
            "chat_template": bool(getattr(self.tokenizer, "chat_template", None)),
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }

    # -- rendered prompts (also used by ``restrl-eval serve``) ------------------------
    def generate_prompts(self, jobs: Sequence[PromptJob]) -> list[list[Generation]]:
        """``n`` generations per rendered prompt, in order."""
        return [[g for g, _ in per_job] for per_job in self.generate_detailed(jobs)]

    def generate_detailed(self, jobs: Sequence[PromptJob]) -> list[list[tuple[Generation, str | None]]]:
        """Like ``generate_prompts``, each generation paired with the stop string that
        ended it (None if it ended otherwise): what a server reports as ``stop_reason``."""
        from restrl_eval.backends.hf_generation import row_seed

        rows: list[_Row] = []
        for j, job in enumerate(jobs):
            ids = tuple(self.tokenizer(job.text, add_special_tokens=job.add_special_tokens)["input_ids"])
            if not ids:
                raise BackendError("cannot generate from an empty prompt")
            draws = 1 if job.temperature == 0 else job.n  # greedy: decode once, copy
            for k in range(draws):
                rows.append(_Row(j, k, ids, job.temperature, job.top_p, job.max_tokens,
                                 tuple(job.stop), row_seed(job.seed, k)))
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i].ids))
        results: dict[int, tuple[Generation, str | None]] = {}
        for start in range(0, len(order), self.max_batch_size):
            chunk = order[start:start + self.max_batch_size]
            results.update(zip(chunk, self._run([rows[i] for i in chunk])))
        out: list[list[tuple[Generation, str | None]]] = [[] for _ in jobs]
        for i, row in enumerate(rows):
            out[row.job].append(results[i])
        for j, job in enumerate(jobs):
            if job.temperature == 0 and job.n > 1:
                out[j] = out[j] * job.n
        return out

    def _run(self, rows: Sequence[_Row]) -> list[tuple[Generation, str | None]]:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        from restrl_eval.backends.hf_generation import RowSampler, RowStopper

        width = max(len(r.ids) for r in rows)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            input_ids[i, width - len(r.ids):] = torch.tensor(r.ids)
            mask[i, width - len(r.ids):] = 1
        stopper = RowStopper(self.tokenizer, width, [r.max_tokens for r in rows], [r.stop for r in rows])
        sampler = RowSampler([r.temperature for r in rows], [r.top_p for r in rows],
                             [r.seed for r in rows], self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device),
                max_new_tokens=max(r.max_tokens for r in rows), do_sample=False, num_beams=1,
                logits_processor=LogitsProcessorList([sampler]),
                stopping_criteria=StoppingCriteriaList([stopper]),
            )
        gens = []
        for i, r in enumerate(rows):
            gen = out[i, width:].tolist()
            gens.append(self._finish(r, gen, stopper.finished_at[i]))
        return gens

    def _finish(self, row: _Row, gen: list[int], stopped_at: int | None) -> tuple[Generation, str | None]:
        end = len(gen) if stopped_at is None else min(stopped_at, len(gen))
        eos_at = next((i for i, t in enumerate(gen[:end]) if t in self.eos_ids), None)
        if eos_at is not None:
            end = eos_at + 1
        tokens = gen[:end]
        text = self._continuation(row.ids, tokens[:-1] if eos_at is not None else tokens)
        text, matched = cut_at_stop(text, row.stop)
        reason = "stop" if matched is not None else ("eos" if eos_at is not None else "length")
        return Generation(text, len(row.ids), len(tokens), reason), matched

    def _continuation(self, prompt_ids: Sequence[int], gen_ids: Sequence[int]) -> str:
        """Decode ``gen_ids`` in the context of the prompt, so tokenizers that drop a
        leading space at the start of a decode (sentencepiece) give the right text."""
        head = self.tokenizer.decode(prompt_ids, skip_special_tokens=True)
        full = self.tokenizer.decode(list(prompt_ids) + list(gen_ids), skip_special_tokens=True)
        if full.startswith(head):
            return full[len(head):]
        return self.tokenizer.decode(gen_ids, skip_special_tokens=True)


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids: list[int] = []
    configured = getattr(model.generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.append(configured)
    elif configured:
        ids.extend(int(x) for x in configured)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids
