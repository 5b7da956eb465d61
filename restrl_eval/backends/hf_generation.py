"""Per-row sampling and stopping for transformers ``generate``.

Why not ``do_sample=True``: transformers samples the whole batch from the global torch
RNG, so a request's samples would depend on which other requests share its batch (and
on their order), and a resumed run would not redraw the same candidates. Here each row
owns a ``torch.Generator`` seeded from (request seed, sample index): ``generate`` runs
greedy, and ``RowSampler`` turns each row's logits into a one-hot choice drawn with that
row's generator, its own temperature and its own top-p. Sample ``k`` of a request is then
the same whatever the batch, whatever ``n`` (a budget of 4 candidates is a prefix of a
budget of 8), up to the floating-point effect of padding on the logits.

``RowStopper`` ends each row at its own stop strings or its own token budget, so one
batch can mix requests with different ``max_tokens`` and ``stop``.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor, StoppingCriteria

from restrl_eval.backends.prompting import stop_window_tokens

__all__ = ["RowSampler", "RowStopper", "row_seed"]


def row_seed(seed: int | None, index: int) -> int:
    """A 63-bit seed for sample ``index`` of a request seeded with ``seed``.

    ``None`` draws fresh entropy (an unseeded request is not reproducible, by design).
    """
    if seed is None:
        return secrets.randbits(63)
    digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


class RowSampler(LogitsProcessor):
    """Draw each row's next token with its own generator; greedy rows pass through."""

    def __init__(self, temperatures: Sequence[float], top_ps: Sequence[float],
                 seeds: Sequence[int], device: Any) -> None:
        self.temperature = torch.tensor([max(t, 1e-6) for t in temperatures], dtype=torch.float32)
        self.top_p = torch.tensor(list(top_ps), dtype=torch.float32)
        self.sampled = torch.tensor([t > 0 for t in temperatures], dtype=torch.bool)
        self.generators = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
        self.device = device

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        if not bool(self.sampled.any()):
            return scores
        logits = scores.float().cpu() / self.temperature[:, None]
        probs = torch.softmax(logits, dim=-1)
        sorted_p, order = torch.sort(probs, dim=-1, descending=True)
        cum = torch.cumsum(sorted_p, dim=-1)
        # keep the smallest head of the sorted distribution whose mass reaches top_p
        keep = (cum - sorted_p) < self.top_p[:, None]
        keep[:, 0] = True
        kept = torch.where(keep, sorted_p, torch.zeros_like(sorted_p))
        kept_cum = torch.cumsum(kept, dim=-1)
        u = torch.stack([torch.rand((), generator=g) for g in self.generators])
        target = u * kept_cum[:, -1]
        pos = torch.searchsorted(kept_cum, target[:, None], right=True).squeeze(1)
        pos = torch.minimum(pos, keep.sum(dim=-1) - 1)
        choice = order.gather(1, pos[:, None]).squeeze(1).to(scores.device)
        out = torch.full_like(scores, float("-inf"))
        out.scatter_(1, choice[:, None], 0.0)
        sampled = self.sampled.to(scores.device)
        return torch.where(sampled[:, None], out, scores)


class RowStopper(StoppingCriteria):
    """Stop a row at its first stop string or after its own ``max_new`` tokens.

    Only the generated part is searched (never the prompt), through a short window of
    trailing tokens, so the check costs the same at token 10 and token 1000.
    ``finished_at[row]`` records the generated length at which the row stopped.
    """

    def __init__(self, tokenizer: Any, prompt_len: int, max_new: Sequence[int],
                 stops: Sequence[Sequence[str]]) -> None:
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.max_new = list(max_new)
        self.stops = [tuple(s) for s in stops]
        self.windows = [stop_window_tokens(s) for s in self.stops]
        self.finished_at: list[int | None] = [None] * len(self.max_new)
        self.hit_stop: list[bool] = [False] * len(self.max_new)

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        gen_len = input_ids.shape[1] - self.prompt_len
        done = []
        for row in range(input_ids.shape[0]):
            if self.finished_at[row] is not None:
                done.append(True)
                continue
            hit = False
            if self.stops[row]:
                lo = max(self.prompt_len, input_ids.shape[1] - self.windows[row])
                tail = self.tokenizer.decode(input_ids[row, lo:], skip_special_tokens=True)
                hit = any(s in tail for s in self.stops[row])
            if hit or gen_len >= self.max_new[row]:
                self.finished_at[row] = gen_len
                self.hit_stop[row] = hit
            done.append(self.finished_at[row] is not None)
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)
