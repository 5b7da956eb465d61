"""A small OpenAI-compatible HTTP server over the transformers policy.

Why: the ``openai`` backend must be tested against a real server, and a user without a
GPU fleet can still put one local model behind the same protocol that a vLLM fleet
speaks. Endpoints: ``GET /v1/models``, ``POST /v1/completions`` and
``POST /v1/chat/completions`` (with vLLM's ``continue_final_message`` and
``add_generation_prompt`` extensions, and vLLM's ``stop_reason`` field in choices).
Concurrent HTTP calls are gathered for a few milliseconds and generated as one batch,
so client-side concurrency turns into batching, as it does on vLLM.
Standard library only (``http.server``): no web framework to install.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from restrl_eval.backends.base import Generation
from restrl_eval.backends.transformers_backend import PromptJob, TransformersPolicy

log = logging.getLogger(__name__)

__all__ = ["PolicyServer", "RequestError"]

_Result = list[list[tuple[Generation, "str | None"]]]


class RequestError(ValueError):
    """A client's bad request: answered with HTTP 400 and this one-line message."""


class _Batcher:
    """Collects jobs from concurrent handlers and runs them as one ``generate`` call."""

    def __init__(self, policy: TransformersPolicy, window_s: float, max_rows: int) -> None:
        self.policy, self.window_s, self.max_rows = policy, window_s, max_rows
        self._q: queue.Queue[tuple[list[PromptJob], Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="restrl-batcher", daemon=True)
        self._thread.start()

    def submit(self, jobs: list[PromptJob]) -> _Result:
        fut: Future = Future()
        self._q.put((jobs, fut))
        return fut.result()

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            batch, closing = [item], False
            rows = sum(j.n for j in item[0])
            deadline = time.monotonic() + self.window_s
            while rows < self.max_rows:
                try:
                    nxt = self._q.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    closing = True
                    break
                batch.append(nxt)
                rows += sum(j.n for j in nxt[0])
            self._run(batch)
            if closing:
                return

    def _run(self, batch: list[tuple[list[PromptJob], Future]]) -> None:
        jobs = [j for jobs, _ in batch for j in jobs]
        try:
            results = self.policy.generate_detailed(jobs)
        except Exception as exc:  # noqa: BLE001 (isolate the failing request from its batch mates)
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            for one in batch:
                self._run([one])
            return
        start = 0
        for jobs_i, fut in batch:
            fut.set_result(results[start:start + len(jobs_i)])
            start += len(jobs_i)


class PolicyServer:
    """Serve ``policy`` on ``host:port`` (port 0: any free port; see ``url``)."""

    def __init__(self, policy: TransformersPolicy, host: str = "127.0.0.1", port: int = 8000,
                 served_name: str | None = None, batch_window_s: float = 0.01,
                 max_batch_rows: int | None = None, api_key: str | None = None) -> None:
        self.policy = policy
        self.served_name = served_name or policy.source.name
        self.api_key = api_key
        self._describe = policy.describe()
        self._batcher = _Batcher(policy, batch_window_s, max_batch_rows or 4 * policy.max_batch_size)
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host_text}:{port}/v1"

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.close()

    def start(self) -> threading.Thread:
        """Serve from a daemon thread (tests, notebooks); ``shutdown()`` stops it."""
        t = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        t.start()
        return t

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.close()

    def close(self) -> None:
        self._batcher.close()
        self.httpd.server_close()

    # -- request handling (called from handler threads) ------------------------------
    def models(self) -> dict[str, Any]:
        return {"object": "list", "data": [{
            "id": self.served_name, "object": "model", "created": 0, "owned_by": "restrl",
            "root": self.policy.source.path, "restrl": self._describe,
        }]}

    def completions(self, body: dict[str, Any]) -> dict[str, Any]:
        prompts = body.get("prompt")
        if isinstance(prompts, str):
            prompts = [prompts]
        if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) and p for p in prompts):
            raise RequestError("'prompt' must be a non-empty string or a list of them")
        params = _sampling(body, default_max_tokens=16)
        jobs = [PromptJob(p, True, **params) for p in prompts]
        results = self._batcher.submit(jobs)
        choices: list[dict[str, Any]] = []
        for gens in results:
            for gen, matched in gens:
                choices.append({"index": len(choices), "text": gen.text, "logprobs": None,
                                **_finish(gen, matched)})
        return self._envelope("text_completion", choices, results)

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            for m in messages
        ):
            raise RequestError("'messages' must be a non-empty list of {role, content} strings")
        cont = bool(body.get("continue_final_message", False))
        add_gen = bool(body.get("add_generation_prompt", not cont))
        if cont and add_gen:
            raise RequestError("continue_final_message and add_generation_prompt cannot both be true")
        if cont and messages[-1]["role"] != "assistant":
            raise RequestError("continue_final_message needs a final assistant message")
        tok = self.policy.tokenizer
        if not getattr(tok, "chat_template", None):
            raise RequestError(f"model {self.served_name!r} has no chat template; use /v1/completions")
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_gen,
                                       continue_final_message=cont)
        params = _sampling(body, default_max_tokens=512)
        results = self._batcher.submit([PromptJob(text, False, **params)])
        choices = [{"index": i, "message": {"role": "assistant", "content": gen.text},
                    "logprobs": None, **_finish(gen, matched)}
                   for i, (gen, matched) in enumerate(results[0])]
        return self._envelope("chat.completion", choices, results)

    def _envelope(self, obj: str, choices: list[dict[str, Any]], results: _Result) -> dict[str, Any]:
        prompt_tokens = sum(gens[0][0].prompt_tokens for gens in results if gens)
        completion_tokens = sum(g.completion_tokens for gens in results for g, _ in gens)
        return {
            "id": f"cmpl-{uuid.uuid4().hex}", "object": obj, "created": int(time.time()),
            "model": self.served_name, "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }


def _finish(gen: Generation, matched: str | None) -> dict[str, Any]:
    reason = "length" if gen.finish_reason == "length" else "stop"
    return {"finish_reason": reason, "stop_reason": matched}


def _sampling(body: dict[str, Any], default_max_tokens: int) -> dict[str, Any]:
    def number(name: str, default: float, lo: float, hi: float, kind: type = float) -> Any:
        value = body.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise RequestError(f"'{name}' must be a number in [{lo}, {hi}], got {value!r}")
        if kind is int and value != int(value):
            raise RequestError(f"'{name}' must be an integer, got {value!r}")
        return kind(value)

    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    if not isinstance(stop, (list, tuple)) or not all(isinstance(s, str) and s for s in stop):
        raise RequestError("'stop' must be a non-empty string or a list of them")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RequestError(f"'seed' must be an integer, got {seed!r}")
    top_p = number("top_p", 1.0, 0.0, 1.0)
    if top_p == 0:
        raise RequestError("'top_p' must be > 0")
    return {
        "n": number("n", 1, 1, 1024, int),
        "temperature": number("temperature", 1.0, 0.0, 10.0),
        "top_p": top_p,
        "max_tokens": number("max_tokens", default_max_tokens, 1, 1 << 20, int),
        "stop": tuple(stop),
        "seed": seed,
    }


class _Handler(BaseHTTPRequestHandler):
    server_ref: PolicyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        if not self._authorized():
            return
        if self.path.rstrip("/") == "/v1/models":
            self._send(HTTPStatus.OK, self.server_ref.models())
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: GET {self.path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self._authorized():
            return
        routes = {"/v1/completions": self.server_ref.completions,
                  "/v1/chat/completions": self.server_ref.chat}
        route = routes.get(self.path.rstrip("/"))
        if route is None:
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: POST {self.path}")
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise RequestError("the request body must be a JSON object")
            model = body.get("model")
            if model is not None and model != self.server_ref.served_name:
                self._error(HTTPStatus.NOT_FOUND, f"model {model!r} is not served "
                                                  f"(serving {self.server_ref.served_name!r})")
                return
            self._send(HTTPStatus.OK, route(body))
        except (RequestError, json.JSONDecodeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except Exception as exc:  # the model failed: report, keep serving
            log.exception("generation failed")
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    def _authorized(self) -> bool:
        key = self.server_ref.api_key
        if key and self.headers.get("Authorization") != f"Bearer {key}":
            self._error(HTTPStatus.UNAUTHORIZED, "missing or wrong API key")
            return False
        return True

    def _error(self, status: HTTPStatus, message: str) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        self._send(status, {"error": {"message": message, "type": kind, "code": int(status)}})

    def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
