"""A policy served over HTTP by any OpenAI-compatible server (vLLM, a provider, ``restrl-eval serve``).

Why this shape: a large model lives on a GPU fleet, not in the harness, so the harness
only needs to send requests concurrently, survive a busy or restarting server, and
account tokens the same way the local backends do. Each request is one HTTP call with
``n`` choices; calls run on a thread pool; 429, 5xx and connection failures are retried
with exponential backoff (honouring ``Retry-After``); any other error is one line.

Chat requests prefill the assistant turn with the code fence through vLLM's
``continue_final_message`` extension (``restrl-eval serve`` supports it too). For a
server without it, ``prefill=False`` sends the bare instruction and takes the first
fenced block of the answer instead.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from restrl_eval.backends.base import BackendError, Generation, GenerationRequest
from restrl_eval.backends.prompting import CODE_FENCE, cut_at_stop

log = logging.getLogger(__name__)

__all__ = ["API_KEY_ENVS", "OpenAIPolicy", "split_tokens"]

API_KEY_ENVS = ("RESTRL_OPENAI_API_KEY", "OPENAI_API_KEY")
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


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
    """``Policy`` over an OpenAI-compatible ``/v1/completions`` + ``/v1/chat/completions``."""

    name = "openai"

    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None,
                 concurrency: int = 8, max_retries: int = 6, backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0, timeout_s: float = 600.0, prefill: bool = True) -> None:
        try:
            import httpx
        except ImportError:
            raise BackendError("the openai backend needs httpx: pip install 'restrl[models]'") from None
        self.base_url = base_url.rstrip("/")
        self.concurrency, self.max_retries = max(1, concurrency), max_retries
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.prefill = prefill
        key = _api_key(api_key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout_s,
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
        )
        self._lock = threading.Lock()
        self.retries = 0  # retried calls, for logs and tests
        self._models: list[dict[str, Any]] | None = None
        self.model = model or self._default_model()

    @classmethod
    def load(cls, spec: str, **kw: Any) -> OpenAIPolicy:
        """``spec``: ``http(s)://host/v1``, optionally ``#model-name``; or ``openai:model``
        (base URL from ``OPENAI_BASE_URL``, default api.openai.com)."""
        if spec.startswith("openai:"):
            base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
            return cls(base, model=spec.split(":", 1)[1] or None, **kw)
        if not spec.startswith(("http://", "https://")):
            raise BackendError(f"openai backend: model {spec!r} is not a server URL (http://host:port/v1[#model])")
        url, _, model = spec.partition("#")
        return cls(url, model=kw.pop("model", None) or model or None, **kw)

    def close(self) -> None:
        self._client.close()

    # -- the Policy interface -------------------------------------------------------
    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        if len(requests) <= 1:
            return [self._one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(self._one, requests))

    def describe(self) -> dict[str, Any]:
        served = next((m for m in self._list_models() if m.get("id") == self.model), {})
        info = {"backend": self.name, "base_url": self.base_url, "model": self.model,
                "prefill": self.prefill}
        # restrl-eval serve publishes what a run needs to be reproducible (weights hash)
        info.update({k: v for k, v in (served.get("restrl") or {}).items() if k not in info})
        if "root" in served:
            info.setdefault("root", served["root"])
        return info

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
            data = self._post("/completions", body)
            texts = [c.get("text") or "" for c in _choices(data)]
        else:
            messages = [{"role": "user", "content": r.prompt}]
            if self.prefill:
                messages.append({"role": "assistant", "content": CODE_FENCE + r.prefix})
                body.update(continue_final_message=True, add_generation_prompt=False)
            body["messages"] = messages
            data = self._post("/chat/completions", body)
            texts = [(c.get("message") or {}).get("content") or "" for c in _choices(data)]
        choices = _choices(data)
        if len(choices) != r.n:
            raise BackendError(f"{self.base_url}: asked for n={r.n} choices, server returned {len(choices)}")
        usage = data.get("usage") or {}
        shares = split_tokens(int(usage.get("completion_tokens") or 0), texts)
        out = []
        for c, text, tokens in zip(choices, texts, shares):
            if fenced:
                text = _first_fenced_block(text, r.prefix)
            text, matched = cut_at_stop(text, r.stop)
            out.append(Generation(text, int(usage.get("prompt_tokens") or 0), tokens,
                                  _finish_reason(c, matched is not None)))
        return out

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        for attempt in range(self.max_retries + 1):
            wait: float | None = None
            try:
                resp = self._client.post(path, json=body)
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise BackendError(f"{self.base_url}{path}: {type(exc).__name__}: {exc}") from None
                log.warning("%s%s: %s; retrying", self.base_url, path, exc)
            else:
                if resp.status_code == 200:
                    return resp.json()
                if resp.status_code not in RETRY_STATUS or attempt == self.max_retries:
                    raise BackendError(
                        f"{self.base_url}{path}: HTTP {resp.status_code}: {_error_text(resp)}")
                wait = _retry_after(resp)
                log.warning("%s%s: HTTP %d; retrying", self.base_url, path, resp.status_code)
            with self._lock:
                self.retries += 1
            delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * (0.5 + random.random() / 2)
            time.sleep(max(delay, wait or 0.0))
        raise AssertionError("unreachable")

    def _list_models(self) -> list[dict[str, Any]]:
        if self._models is None:
            import httpx

            try:
                resp = self._client.get("/models")
            except httpx.TransportError as exc:
                raise BackendError(f"{self.base_url}/models: {type(exc).__name__}: {exc}") from None
            if resp.status_code != 200:
                raise BackendError(f"{self.base_url}/models: HTTP {resp.status_code}: {_error_text(resp)}")
            self._models = list(resp.json().get("data") or [])
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


def _first_fenced_block(text: str, prefix: str) -> str:
    """The body of the answer's first code block, minus the prefix the model repeated."""
    start = text.find("```")
    if start != -1:
        nl = text.find("\n", start)
        text = text[nl + 1:] if nl != -1 else ""
    if prefix and text.startswith(prefix):
        text = text[len(prefix):]
    return text


def _retry_after(resp: Any) -> float | None:
    try:
        return min(60.0, float(resp.headers.get("retry-after", "")))
    except ValueError:
        return None


def _error_text(resp: Any) -> str:
    try:
        err = resp.json().get("error")
        msg = err.get("message") if isinstance(err, dict) else err
    except ValueError:
        msg = None
    text = str(msg or resp.text or resp.reason_phrase).strip().splitlines()
    return text[0][:300] if text else ""
