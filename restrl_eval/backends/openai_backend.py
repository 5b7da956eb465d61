"""A policy served over HTTP by any OpenAI-compatible server (vLLM, a provider, ``restrl-eval serve``).

Why this shape: a large model lives on a GPU fleet, not in the harness, so the harness
only needs to send requests concurrently, survive a busy or restarting server, and
account tokens the same way the local backends do. Each request is one HTTP call with
``n`` choices; calls run on a thread pool; ``--model http://a/v1,http://b/v1`` spreads
them over several servers serving the same weights (``fleet.ServerPool``: fewest calls in
flight first, 429, 5xx and connection failures retried with exponential back-off honouring
``Retry-After``, on another server when one is up); any other error is one line. A call's
result is the first answer taken for it, and its seed travels with it, so a fleet gives
the candidates one server gives.

Chat requests prefill the assistant turn with the code fence through vLLM's
``continue_final_message`` extension (``restrl-eval serve`` supports it too). For a
server without it, ``prefill=False`` sends the bare instruction and takes the first
fenced block of the answer instead; such a server cannot continue a partial program in
chat mode, so a chat request with a prefix is refused (MCTS checks ``supports_prefix``
before it starts).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from restrl_eval.backends.base import BackendError, Generation, GenerationRequest
from restrl_eval.backends.fleet import RETRY_STATUS, ServerPool, parse_urls
from restrl_eval.backends.prompting import CODE_FENCE, cut_at_stop, first_fenced_block

log = logging.getLogger(__name__)

__all__ = ["API_KEY_ENVS", "RETRY_STATUS", "OpenAIPolicy", "split_tokens"]

API_KEY_ENVS = ("RESTRL_OPENAI_API_KEY", "OPENAI_API_KEY")


def split_tokens(total: int, texts: Sequence[str]) -> list[int]:
    """Share a request's ``completion_tokens`` among its choices, by text length.

    OpenAI-style usage counts all ``n`` choices together; the shares sum exactly to the
    total, so budget accounting over a run is exact even where one choice's is not.
    """
    if not texts:
        return []
    weights = [len(t) + 1 for t in texts]
    raw = [total * w / sum(weights) for w in weights]
    shares = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _api_key(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    for name in API_KEY_ENVS:
        if os.environ.get(name):
            return os.environ[name]
    return None


class OpenAIPolicy:
    """``Policy`` over OpenAI-compatible ``/v1/completions`` + ``/v1/chat/completions``
    servers: one base URL, or several (a list, or one string of comma-separated URLs)."""

    name = "openai"

    def __init__(self, base_url: str | Sequence[str], model: str | None = None, api_key: str | None = None,
                 concurrency: int = 8, max_retries: int = 6, backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0, timeout_s: float = 600.0, prefill: bool = True) -> None:
        try:
            import httpx  # noqa: F401
        except ImportError:
            raise BackendError("the openai backend needs httpx: pip install 'restrl[models]'") from None
        urls = parse_urls(base_url) if isinstance(base_url, str) else parse_urls(",".join(base_url))
        self.base_urls = urls
        self.base_url = ",".join(urls)  # how errors and describe() name the fleet
        # ``concurrency`` is per server: each one batches the calls it is sent
        self.concurrency, self.max_retries = max(1, concurrency), max_retries
        self.prefill = prefill
        key = _api_key(api_key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.pool = ServerPool(urls, headers, concurrency=self.concurrency, max_retries=max_retries,
                               backoff_s=backoff_s, max_backoff_s=max_backoff_s, timeout_s=timeout_s)
        self._models: list[dict[str, Any]] | None = None
        self.model = model or self._default_model()

    @property
    def retries(self) -> int:
        """Calls sent again after a failure (any server), for logs and tests."""
        return self.pool.retries

    @classmethod
    def load(cls, spec: str, **kw: Any) -> OpenAIPolicy:
        """``spec``: ``http(s)://host/v1``, or several comma-separated (a fleet serving the same
        weights), optionally ``#model-name``; or ``openai:model`` (base URL(s) from
        ``OPENAI_BASE_URL``, default api.openai.com)."""
        if spec.startswith("openai:"):
            base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
            return cls(base, model=spec.split(":", 1)[1] or None, **kw)
        if not spec.startswith(("http://", "https://")):
            raise BackendError(f"openai backend: model {spec!r} is not a server URL (http://host:port/v1[#model])")
        url, _, model = spec.partition("#")
        return cls(url, model=kw.pop("model", None) or model or None, **kw)

    def close(self) -> None:
        self.pool.close()

    prefix_refusal = ("with prefill=False the server answers a bare instruction and drops the partial "
                      "program; use prefill=True (a server with continue_final_message, e.g. vLLM or "
                      "restrl-eval serve) or --prompt-style completion")

    def supports_prefix(self, chat: bool) -> bool:
        """Whether a request's ``prefix`` (an MCTS state) is continued: always in
        completion mode, in chat mode only with the assistant prefill."""
        return self.prefill or not chat

    # -- the Policy interface -------------------------------------------------------
    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        if any(r.prefix and not self.supports_prefix(r.chat) for r in requests):
            raise BackendError(f"{self.base_url}: a chat request with a prefix: {self.prefix_refusal}")
        if any(r.chat and r.prefill and not self.prefill for r in requests):
            raise BackendError(f"{self.base_url}: prefill=False cannot open the assistant turn with "
                               "a prefill; use --prefill none (or a server with continue_final_message)")
        if len(requests) <= 1:
            return [self._one(r) for r in requests]
        workers = min(self.concurrency * len(self.base_urls), len(requests))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self._one, requests))

    def describe(self) -> dict[str, Any]:
        """What config.json records: the server(s), the model, and what ``restrl-eval serve``
        publishes (weights hash). Servers of one fleet that publish different weights are
        refused: their answers would depend on which server took a call."""
        info: dict[str, Any] = {"backend": self.name, "base_url": self.base_url, "model": self.model,
                                "prefill": self.prefill}
        if len(self.base_urls) > 1:
            info["base_urls"] = list(self.base_urls)
        served = self._served_entries()
        hashes = {url: m["restrl"]["sha256"] for url, m in served.items()
                  if isinstance(m.get("restrl"), dict) and "sha256" in m["restrl"]}
        if len(set(hashes.values())) > 1:
            (a, ha), (b, hb) = list(hashes.items())[:2]
            raise BackendError(f"servers serve different weights: {a} has sha256 {ha[:12]}, {b} has {hb[:12]}")
        first = next(iter(served.values()), {})
        # restrl-eval serve publishes what a run needs to be reproducible (weights hash)
        info.update({k: v for k, v in (first.get("restrl") or {}).items() if k not in info})
        if "root" in first:
            info.setdefault("root", first["root"])
        return info

    def _served_entries(self) -> dict[str, dict[str, Any]]:
        """This model's /models entry on each server that answers."""
        if len(self.base_urls) == 1:
            entry = next((m for m in self._list_models() if m.get("id") == self.model), {})
            return {self.base_url: entry}
        out: dict[str, dict[str, Any]] = {}
        for url, data in self.pool.get_each("/models").items():
            for m in data.get("data") or []:
                if m.get("id") == self.model:
                    out[url] = m
                    break
        return out

    # -- one request ------------------------------------------------------------------
    def _one(self, r: GenerationRequest) -> list[Generation]:
        body: dict[str, Any] = {"model": self.model, "n": r.n, "temperature": r.temperature,
                                "top_p": r.top_p, "max_tokens": r.max_tokens}
        if r.seed is not None:
            body["seed"] = r.seed
        fenced = r.chat and not self.prefill
        if r.stop and not fenced:
            body["stop"] = list(r.stop)
        if not r.chat:
            body["prompt"] = r.prompt + r.prefix
            data = self.pool.post("/completions", body)
            texts = [c.get("text") or "" for c in _choices(data)]
        else:
            messages = [{"role": "user", "content": r.prompt}]
            opening = (CODE_FENCE if r.prefill is None else r.prefill) + r.prefix
            if self.prefill and opening:  # the assistant turn starts with the prefill
                messages.append({"role": "assistant", "content": opening})
                body.update(continue_final_message=True, add_generation_prompt=False)
            body["messages"] = messages
            data = self.pool.post("/chat/completions", body)
            texts = [(c.get("message") or {}).get("content") or "" for c in _choices(data)]
        choices = _choices(data)
        if len(choices) != r.n:
            raise BackendError(f"{self.base_url}: asked for n={r.n} choices, server returned {len(choices)}")
        usage = data.get("usage") or {}
        shares = split_tokens(int(usage.get("completion_tokens") or 0), texts)
        out = []
        for c, text, tokens in zip(choices, texts, shares):
            if fenced:
                text = first_fenced_block(text, r.prefix)
            text, matched = cut_at_stop(text, r.stop)
            out.append(Generation(text, int(usage.get("prompt_tokens") or 0), tokens,
                                  _finish_reason(c, matched is not None)))
        return out

    def _list_models(self) -> list[dict[str, Any]]:
        if self._models is None:
            _, data = self.pool.get("/models")
            self._models = list(data.get("data") or [])
        return self._models

    def _default_model(self) -> str:
        models = self._list_models()
        if len(models) != 1:
            names = ", ".join(str(m.get("id")) for m in models) or "none"
            raise BackendError(f"{self.base_url}: name a model with URL#model (served: {names})")
        return str(models[0]["id"])


def _choices(data: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(data.get("choices") or [], key=lambda c: c.get("index", 0))


def _finish_reason(choice: dict[str, Any], hit_stop: bool) -> str:
    reason = choice.get("finish_reason")
    if reason == "length":
        return "length"
    if hit_stop or isinstance(choice.get("stop_reason"), str):
        return "stop"
    # vLLM and restrl-eval serve set stop_reason=None when the model ended on EOS
    return "eos" if "stop_reason" in choice else "stop"
