"""The openai backend against real localhost servers: ``restrl-eval serve`` on the tiny
LM, and a tiny stdlib server that fails on purpose to exercise retries."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from restrl_eval.backends import BackendError, GenerationRequest, load_policy

pytest.importorskip("httpx")
pytest.importorskip("transformers")

PROMPTS = ["Write a function that returns the sum of a list.", "Hi",
           "Parse an ISO date and return the weekday."]


@pytest.fixture(scope="module")
def remote(tiny_server_url):
    policy = load_policy(tiny_server_url, backend="openai", backoff_s=0.01)
    yield policy
    policy.close()


def test_greedy_chat_through_the_server_equals_the_local_backend(remote, tiny_policy):
    reqs = [GenerationRequest(p, max_tokens=20) for p in PROMPTS]
    reqs.append(GenerationRequest(PROMPTS[0], prefix="def total(xs):\n", max_tokens=20))
    assert remote.generate(reqs) == tiny_policy.generate(reqs)


def test_completion_mode_equals_the_local_backend(remote, tiny_policy):
    reqs = [GenerationRequest("def add(a, b):\n", prefix="    ", chat=False, max_tokens=15, stop=("\n\n",))]
    assert remote.generate(reqs) == tiny_policy.generate(reqs)


def test_the_request_prefill_travels_over_the_wire(remote, tiny_policy):
    """--prefill official / none through a server: the same rows as the local backend."""
    opening = "Below is a Python script with a self-contained function:\n```python\n"
    reqs = [GenerationRequest(PROMPTS[0], max_tokens=12, prefill=opening),
            GenerationRequest(PROMPTS[0], prefix="def total(xs):\n", max_tokens=12, prefill=opening),
            GenerationRequest(PROMPTS[1], max_tokens=12, prefill="", stop=())]
    assert remote.generate(reqs) == tiny_policy.generate(reqs)
    assert remote.generate(reqs[:1]) != remote.generate([GenerationRequest(PROMPTS[0], max_tokens=12)])


def test_prefill_off_refuses_an_explicit_prefill(tiny_server_url):
    policy = load_policy(tiny_server_url, backend="openai", prefill=False)
    with pytest.raises(BackendError, match="use --prefill none"):
        policy.generate([GenerationRequest("Hi", max_tokens=2, prefill="Below:\n```python\n")])
    [[g]] = policy.generate([GenerationRequest("Hi", max_tokens=2, prefill="", stop=())])  # none is fine
    assert g.completion_tokens == 2
    policy.close()


def test_stop_and_finish_reasons_survive_the_wire(remote, tiny_policy):
    [[full]] = tiny_policy.generate([GenerationRequest(PROMPTS[0], max_tokens=40, stop=())])
    stop = next(full.text[i:i + 2] for i in range(6, len(full.text) - 2)
                if full.text[i:i + 2].isascii() and full.text[i:i + 2].isprintable())
    req = GenerationRequest(PROMPTS[0], max_tokens=40, stop=(stop,))
    [[got]] = remote.generate([req])
    assert got.finish_reason == "stop" and got.text == full.text[: full.text.find(stop)]
    assert [[got]] == tiny_policy.generate([req])


def test_seeded_sampling_is_reproducible_over_http(remote, tiny_policy):
    req = GenerationRequest(PROMPTS[2], n=3, temperature=1.0, max_tokens=12, seed=11, stop=())
    [a], [b] = remote.generate([req]), remote.generate([req])
    assert a == b
    [local] = tiny_policy.generate([req])
    assert [g.text for g in a] == [g.text for g in local]  # per-row seeds: same draws
    # usage is per request; the shares sum to the exact total
    assert sum(g.completion_tokens for g in a) == sum(g.completion_tokens for g in local)


def test_concurrent_requests_each_get_their_own_answer(remote, tiny_policy):
    reqs = [GenerationRequest(p, n=2, temperature=0.8, max_tokens=10, seed=i, stop=())
            for i, p in enumerate(PROMPTS * 2)]
    got = remote.generate(reqs)
    local = tiny_policy.generate(reqs)
    assert [[g.text for g in gs] for gs in got] == [[g.text for g in gs] for gs in local]


def test_describe_carries_the_served_weights_hash(remote, tiny_policy):
    d = remote.describe()
    assert d["backend"] == "openai" and d["sha256"] == tiny_policy.describe()["sha256"]


def test_unknown_model_is_a_one_line_error(tiny_server_url):
    policy = load_policy(tiny_server_url + "#no-such-model", backend="openai")
    with pytest.raises(BackendError, match=r"HTTP 404: model 'no-such-model' is not served") as info:
        policy.generate([GenerationRequest("x", max_tokens=2)])
    assert "\n" not in str(info.value) and policy.retries == 0


def test_a_rejected_request_is_not_retried(remote):
    before = remote.retries
    with pytest.raises(BackendError, match="HTTP 400: 'temperature' must be"):
        remote.generate([GenerationRequest("x", temperature=50.0, max_tokens=2)])
    assert remote.retries == before


def test_prefill_off_reads_the_first_fenced_block(tiny_server_url):
    import httpx

    policy = load_policy(tiny_server_url, backend="openai", prefill=False)
    [[g]] = policy.generate([GenerationRequest("Hi", max_tokens=8)])
    # the same call made by hand: a bare instruction, no fence prefill, no stop string
    raw = httpx.post(tiny_server_url + "/chat/completions", json={
        "model": policy.model, "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 8, "temperature": 0.0}).json()["choices"][0]["message"]["content"]
    assert "```" not in raw  # the tiny model writes no fence, so the whole answer is kept
    assert (g.text, g.completion_tokens, g.finish_reason) == (raw, 8, "length")


def test_prefill_off_refuses_mcts_at_the_start_and_a_chat_prefix_anywhere(tiny_server_url):
    """With prefill=False the server answers a bare instruction, so an MCTS state (the
    prefix) would be silently dropped: the old code ran the whole search that way."""
    from restrl_eval.strategies import (
        SamplingParams,
        SolveContext,
        StrategyError,
        create_strategy,
        mcts,  # noqa: F401  (registers vm-mcts, orm-mcts)
    )
    from tests._run_bench import ArithBench

    bench = ArithBench()
    policy = load_policy(tiny_server_url, backend="openai", prefill=False)
    scorer = object()  # never reached: the check comes first
    for name in ("vm-mcts", "orm-mcts"):
        ctx = SolveContext(policy=policy, benchmark=bench, budget=3, seed=0, scorer=scorer,
                           sampling=SamplingParams(max_tokens=8))
        # a StrategyError, not the backend's own refusal: nothing was sent
        with pytest.raises(StrategyError, match="prefill=False") as err:
            create_strategy(name).solve(bench.tasks()[0], ctx)
        assert "\n" not in str(err.value) and name in str(err.value)
    with pytest.raises(BackendError, match="prefill=False"):  # any caller of generate (collect-values)
        policy.generate([GenerationRequest("Hi", prefix="def f():\n", max_tokens=4)])
    # completion mode continues the prefix on any server: allowed
    assert policy.supports_prefix(chat=False)
    [[g]] = policy.generate([GenerationRequest("def f():\n", prefix="    ", chat=False, max_tokens=4)])
    assert g.completion_tokens > 0
    policy.close()


def test_first_fenced_block_and_token_split():
    from restrl_eval.backends.openai_backend import split_tokens
    from restrl_eval.backends.prompting import first_fenced_block as _first_fenced_block

    assert _first_fenced_block("Sure:\n```python\ndef f():\n    return 1\n```\nBye", "") == \
        "def f():\n    return 1\n```\nBye"
    assert _first_fenced_block("```python\ndef f():\n    x", "def f():\n") == "    x"
    assert split_tokens(10, ["aaaa", "a", "aaaa"]) == [4, 2, 4]
    assert sum(split_tokens(7, ["x", "yy", "", "zzz"])) == 7


def test_bad_specs():
    with pytest.raises(BackendError, match="not a server URL"):
        load_policy("/some/dir", backend="openai")


# -- auth, with an in-process server -------------------------------------------------------
def test_api_key_is_read_from_the_environment(tiny_policy, monkeypatch):
    from restrl_eval.backends.server import PolicyServer

    server = PolicyServer(tiny_policy, port=0, served_name="tiny", api_key="s3cret")
    server.start()
    try:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.delenv("RESTRL_OPENAI_API_KEY", raising=False)
        with pytest.raises(BackendError, match="HTTP 401"):
            load_policy(server.url, backend="openai")
        monkeypatch.setenv("RESTRL_OPENAI_API_KEY", "s3cret")
        policy = load_policy(server.url, backend="openai")
        assert policy.model == "tiny"
        assert policy.generate([GenerationRequest("Hi", max_tokens=4)]) == \
            tiny_policy.generate([GenerationRequest("Hi", max_tokens=4)])
    finally:
        server.shutdown()


# -- retries, with a server that fails on purpose ---------------------------------------------
class _Flaky(BaseHTTPRequestHandler):
    failures: ClassVar[list[int]] = []  # statuses to answer before succeeding
    calls: ClassVar[list[float]] = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).calls.append(time.monotonic())
        if type(self).failures:
            status = type(self).failures.pop(0)
            body = json.dumps({"error": {"message": "busy"}}).encode()
            self.send_response(status)
            self.send_header("Retry-After", "0.2")
        else:
            body = json.dumps({
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "return 1\n```"},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 4},
            }).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def flaky():
    _Flaky.calls = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}/v1#m"
    httpd.shutdown()
    httpd.server_close()


def test_503_twice_then_200_is_retried(flaky):
    _, url = flaky
    _Flaky.failures = [503, 503]
    policy = load_policy(url, backend="openai", backoff_s=0.01)
    [[g]] = policy.generate([GenerationRequest("p")])
    assert (g.text, g.prompt_tokens, g.completion_tokens, g.finish_reason) == ("return 1\n", 9, 4, "stop")
    assert policy.retries == 2 and len(_Flaky.calls) == 3
    # Retry-After: 0.2 s was honoured between attempts
    assert _Flaky.calls[1] - _Flaky.calls[0] >= 0.19 and _Flaky.calls[2] - _Flaky.calls[1] >= 0.19


def test_retries_give_up_with_a_one_line_error(flaky):
    _, url = flaky
    _Flaky.failures = [429] * 5
    policy = load_policy(url, backend="openai", backoff_s=0.001, max_retries=2)
    with pytest.raises(BackendError, match="HTTP 429: busy"):
        policy.generate([GenerationRequest("p")])
    assert len(_Flaky.calls) == 3


def test_connection_refused_is_retried_then_reported():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    policy = load_policy(f"http://127.0.0.1:{port}/v1#m", backend="openai", backoff_s=0.001, max_retries=2)
    with pytest.raises(BackendError, match="ConnectError"):
        policy.generate([GenerationRequest("p")])
    assert policy.retries == 2


# -- the serve command's errors -------------------------------------------------------------------
def test_serve_rejects_a_missing_model(tmp_path):
    from click.testing import CliRunner

    from restrl_eval.cli.main import cli

    result = CliRunner().invoke(cli, ["serve", "--model", str(tmp_path / "nope"), "--port", "0"])
    assert result.exit_code != 0
    assert "no such file or directory" in result.output and result.output.count("\n") == 1
