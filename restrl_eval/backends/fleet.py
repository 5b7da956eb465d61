"""HTTP calls spread over one or several OpenAI-compatible servers, with failover and back-off.

Why apart from the backend: a vLLM fleet is several servers behind one policy, and which
server answers must never change what a run gets. So the pool only moves calls: each call
goes to the server with the fewest calls in flight (ties in turn), a call that fails with a
connection error or a retryable status (429, 503, ...) is sent again, to another server when
one is up, and the first 200 answer is the call's one and only result. The request body,
seed included, is the same whichever server answers, so seeded sampling stays reproducible.

Back-off is per server (a small circuit breaker): a server that fails is left alone for an
exponentially growing, jittered pause (at least its ``Retry-After``); calls that were in
flight on it when it failed extend the pause without growing it; its first success resets
it. When every server is pausing, a call waits for the first to come back.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from restrl_eval.backends.base import BackendError

log = logging.getLogger(__name__)

__all__ = ["RETRY_STATUS", "ServerPool", "error_text", "parse_urls"]

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def parse_urls(text: str) -> list[str]:
    """``http://a/v1,http://b/v1`` to a list of base URLs (trailing slashes dropped, duplicates
    refused: the same server twice would double its share silently)."""
    urls = [u.strip().rstrip("/") for u in text.split(",") if u.strip()]
    if not urls:
        raise BackendError("openai backend: no server URL given")
    for u in urls:
        if not u.startswith(("http://", "https://")):
            raise BackendError(f"openai backend: {u!r} is not a server URL (http://host:port/v1)")
    dupes = sorted({u for u in urls if urls.count(u) > 1})
    if dupes:
        raise BackendError(f"openai backend: server {dupes[0]} given twice")
    return urls


@dataclass
class _Server:
    index: int
    url: str
    client: Any  # httpx.Client
    inflight: int = 0
    failures: int = 0  # consecutive failed pauses (the back-off exponent)
    down_until: float = 0.0
    served: int = 0  # answers taken from this server


class ServerPool:
    """Send JSON POSTs to a set of servers; see the module docstring for the policy."""

    def __init__(self, urls: Sequence[str], headers: Mapping[str, str], *, concurrency: int = 8,
                 max_retries: int = 6, backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 timeout_s: float = 600.0) -> None:
        import httpx

        self.max_retries, self.backoff_s, self.max_backoff_s = max_retries, backoff_s, max_backoff_s
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.servers = [_Server(i, u, httpx.Client(base_url=u, headers=dict(headers), timeout=timeout_s,
                                                    limits=limits))
                        for i, u in enumerate(urls)]
        self._lock = threading.Lock()
        self._turn = 0
        self._jitter = random.Random()  # private: the global RNG's state is left alone
        self.retries = 0  # calls sent again after a failure, for logs and tests

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    def served(self) -> list[int]:
        """Answers taken from each server, in URL order."""
        with self._lock:
            return [s.served for s in self.servers]

    def close(self) -> None:
        for s in self.servers:
            s.client.close()

    # -- one call ---------------------------------------------------------------------
    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON answer of the first server that accepts ``body``; BackendError (one
        line, naming the server) when a server refuses it or the retries are spent."""
        import httpx

        tried: set[int] = set()
        for attempt in range(self.max_retries + 1):
            server = self._acquire(tried)
            retry_after: float | None = None
            try:
                resp = server.client.post(path, json=body)
            except httpx.TransportError as exc:
                error = f"{server.url}{path}: {type(exc).__name__}: {exc}"
            except BaseException:
                self._release(server, ok=None)
                raise
            else:
                if resp.status_code == 200:
                    try:
                        data = resp.json()
                    except ValueError:
                        self._release(server, ok=None)
                        raise BackendError(f"{server.url}{path}: the answer is not JSON") from None
                    self._release(server, ok=True)
                    return dict(data)
                error = f"{server.url}{path}: HTTP {resp.status_code}: {error_text(resp)}"
                if resp.status_code not in RETRY_STATUS:
                    self._release(server, ok=None)
                    raise BackendError(error)
                retry_after = _retry_after(resp)
            self._release(server, ok=False, retry_after=retry_after)
            tried.add(server.index)
            if attempt == self.max_retries:
                raise BackendError(error.splitlines()[0])
            log.warning("%s; retrying", error)
            with self._lock:
                self.retries += 1
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[str, dict[str, Any]]:
        """``GET path`` on the first server that answers, with its URL (model listings)."""
        import httpx

        errors = []
        for s in self.servers:
            try:
                resp = s.client.get(path)
            except httpx.TransportError as exc:
                errors.append(f"{s.url}{path}: {type(exc).__name__}: {exc}")
                continue
            if resp.status_code != 200:
                raise BackendError(f"{s.url}{path}: HTTP {resp.status_code}: {error_text(resp)}")
            return s.url, dict(resp.json())
        raise BackendError(errors[0] + (f" (and {len(errors) - 1} more servers down)" if len(errors) > 1 else ""))

    def get_each(self, path: str) -> dict[str, dict[str, Any]]:
        """``GET path`` on every server that answers 200 (a down server is skipped)."""
        import httpx

        out = {}
        for s in self.servers:
            try:
                resp = s.client.get(path)
            except httpx.TransportError:
                continue
            if resp.status_code == 200:
                out[s.url] = dict(resp.json())
        return out

    # -- choosing a server --------------------------------------------------------------
    def _acquire(self, tried: set[int]) -> _Server:
        """The up server with the fewest calls in flight, preferring ones this call has not
        failed on; waits while every server is pausing."""
        while True:
            with self._lock:
                now = time.monotonic()
                up = [s for s in self.servers if s.down_until <= now]
                pool = [s for s in up if s.index not in tried] or up
                if pool:
                    n = len(self.servers)
                    best = min(pool, key=lambda s: (s.inflight, (s.index - self._turn) % n))
                    self._turn = (best.index + 1) % n
                    best.inflight += 1
                    return best
                wait = min(s.down_until for s in self.servers) - now
            time.sleep(max(wait, 0.001))

    def _release(self, server: _Server, ok: bool | None, retry_after: float | None = None) -> None:
        """``ok``: True for an answer taken, False for a retryable failure, None for a refusal
        (the server works; the request is wrong)."""
        with self._lock:
            server.inflight -= 1
            if ok:
                server.served += 1
                server.failures, server.down_until = 0, 0.0
                return
            if ok is None:
                return
            now = time.monotonic()
            if server.down_until <= now:  # a fresh failure: pause longer than last time
                server.failures += 1
                delay = min(self.max_backoff_s, self.backoff_s * 2 ** (server.failures - 1))
                server.down_until = now + delay * (0.5 + self._jitter.random() / 2)
            if retry_after is not None:
                server.down_until = max(server.down_until, now + retry_after)


def _retry_after(resp: Any) -> float | None:
    try:
        return min(60.0, float(resp.headers.get("retry-after", "")))
    except ValueError:
        return None


def error_text(resp: Any) -> str:
    """The first line of a server's error message (OpenAI's ``{"error": {"message"}}`` or text)."""
    try:
        err = resp.json().get("error")
        msg = err.get("message") if isinstance(err, dict) else err
    except ValueError:
        msg = None
    text = str(msg or resp.text or resp.reason_phrase).strip().splitlines()
    return text[0][:300] if text else ""
