"""The openai backend over a fleet: two real ``restrl-eval serve`` processes on localhost
(the tiny LM), requests spread over both, and one server SIGKILLed while calls are in
flight: every request still gets exactly its own answer, the one a single server gives."""
from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from restrl_eval.backends import BackendError, GenerationRequest, load_policy
from restrl_eval.cli.main import cli
from tests._serve import start_serve

pytest.importorskip("httpx")
pytest.importorskip("transformers")

PROMPTS = ["Write a function that returns the sum of a list.", "Hi", "Parse an ISO date and return the weekday.",
           "Reverse a string.", "Count vowels in a word.", "Return the n-th Fibonacci number."]


def _serve(model_dir: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    return start_serve(model_dir, log_path, "--threads", "1", timeout=180)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def fleet(tiny_lm_dir, tmp_path_factory):
    """Two servers of the same checkpoint: [(process, url), (process, url)]."""
    logs = tmp_path_factory.mktemp("fleet")
    servers = [_serve(tiny_lm_dir, logs / f"server{i}.log") for i in range(2)]
    yield servers
    for proc, _ in servers:
        _stop(proc)


def _requests() -> list[GenerationRequest]:
    """Seeded sampling (n=2) and greedy rows, with and without an MCTS-style prefix."""
    reqs = [GenerationRequest(p, n=2, temperature=1.0, max_tokens=12, seed=100 + i, stop=())
            for i, p in enumerate(PROMPTS)]
    reqs += [GenerationRequest(p, max_tokens=10) for p in PROMPTS[:3]]
    reqs.append(GenerationRequest(PROMPTS[0], prefix="def total(xs):\n", n=2, temperature=0.8, max_tokens=10,
                                  seed=7, stop=()))
    return reqs


def test_a_fleet_gives_the_candidates_of_one_server(fleet, tiny_policy):
    (_, a), (_, b) = fleet
    reqs = _requests()
    one = load_policy(a, backend="openai")
    two = load_policy(f"{a},{b}", backend="openai", concurrency=2)
    try:
        assert two.generate(reqs) == one.generate(reqs)
        served = two.pool.served()
        assert sum(served) == len(reqs) and min(served) >= 2, served  # spread over both, each call taken once
        assert two.retries == 0
        assert [[g.text for g in gs] for gs in two.generate(reqs)] == \
            [[g.text for g in gs] for gs in tiny_policy.generate(reqs)]
        d = two.describe()
        assert d["base_urls"] == [a, b] and d["sha256"] == tiny_policy.describe()["sha256"]
    finally:
        one.close()
        two.close()


def test_fleet_urls_are_checked():
    with pytest.raises(BackendError, match="given twice"):
        load_policy("http://127.0.0.1:1/v1,http://127.0.0.1:1/v1/#m", backend="openai")
    with pytest.raises(BackendError, match="'ftp://x' is not a server URL"):
        load_policy("http://127.0.0.1:1/v1,ftp://x#m", backend="openai")


def test_a_dead_server_in_the_list_is_skipped(fleet):
    """A fleet whose second server never answers (connection refused): every call lands
    on the live one after at most one failed try, and the dead one is left alone meanwhile."""
    import socket

    (_, a), _ = fleet
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    reqs = _requests()
    ref = load_policy(a, backend="openai")
    policy = load_policy(f"{dead},{a}", backend="openai", backoff_s=5.0, concurrency=2)
    try:
        assert policy.generate(reqs) == ref.generate(reqs)
        assert policy.pool.served() == [0, len(reqs)]
        assert 1 <= policy.retries < len(reqs)  # the 5 s pause keeps later calls off the dead server
    finally:
        policy.close()
        ref.close()


# -- end to end: restrl-eval run over a fleet -------------------------------------------------------
def _samples(run_dir: Path) -> list[tuple[str, int, str]]:
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    return [(r["task_id"], r["index"], r["text"]) for r in rows]


def test_run_over_two_servers_equals_one_and_records_the_fleet(fleet, tmp_path):
    (_, a), (_, b) = fleet
    common = ["run", "--strategy", "sample", "--bench", "humaneval+", "--limit", "4", "--max-tokens", "16",
              "--batch-tasks", "4", "--workers", "1", "--no-progress", "--backend", "openai"]
    one = CliRunner().invoke(cli, common + ["--model", a, "--out", str(tmp_path / "one")])
    two = CliRunner().invoke(cli, common + ["--model", f"{a},{b}", "--out", str(tmp_path / "two")])
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    assert _samples(tmp_path / "two") == _samples(tmp_path / "one") and len(_samples(tmp_path / "one")) == 4
    model = json.loads((tmp_path / "two" / "config.json").read_text())["model"]
    assert model["spec"] == f"{a},{b}" and model["base_urls"] == [a, b]


def test_a_server_killed_mid_call_loses_and_duplicates_nothing(fleet, tiny_policy, tiny_lm_dir, tmp_path):
    """SIGKILL a server while calls are in flight on it: those calls are sent again to the
    other, every request gets exactly its n answers, equal to an uninterrupted run."""
    (_, a), _ = fleet
    victim, b = _serve(tiny_lm_dir, tmp_path / "victim.log")
    reqs = [GenerationRequest(PROMPTS[i % len(PROMPTS)], n=3, temperature=1.0, max_tokens=40, seed=1000 + i,
                              stop=()) for i in range(16)]
    reference = tiny_policy.generate(reqs)
    policy = load_policy(f"{a},{b}", backend="openai", concurrency=2, backoff_s=0.05)
    killed: list[int] = []

    def kill_when_busy() -> None:  # a call answered by b and another in flight on it: kill now
        server_b = policy.pool.servers[1]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if server_b.served >= 1 and server_b.inflight >= 1:
                victim.send_signal(signal.SIGKILL)
                killed.append(server_b.inflight)
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=kill_when_busy, daemon=True)
    watcher.start()
    try:
        got = policy.generate(reqs)
    finally:
        watcher.join(timeout=10)
        policy.close()
        _stop(victim)
    assert killed, "the second server was never busy"
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert [len(g) for g in got] == [3] * len(reqs)
    assert [[g.text for g in gs] for gs in got] == [[g.text for g in gs] for gs in reference]
    served = policy.pool.served()
    assert sum(served) == len(reqs) and served[1] >= 1  # each request's answer taken once
    assert policy.retries >= 1


def test_a_run_completes_when_a_server_is_killed_mid_run(fleet, tmp_path, caplog):
    """``restrl-eval run`` over two servers; the second is SIGKILLed once two tasks are
    stored: the run finishes with every candidate once, equal to a run on one server.
    Last in this module: it kills one of the module's servers."""
    (_, a), (victim, b) = fleet
    common = ["run", "--strategy", "sample", "--bench", "humaneval+", "--limit", "6", "--max-tokens", "24",
              "--workers", "1", "--no-progress", "--backend", "openai"]
    out = tmp_path / "killed"
    killed_after: list[int] = []

    def kill_after_two_tasks() -> None:
        deadline = time.monotonic() + 600
        verdicts = out / "verdicts.jsonl"
        while time.monotonic() < deadline:
            done = len(verdicts.read_text().splitlines()) if verdicts.exists() else 0
            if done >= 2:
                victim.send_signal(signal.SIGKILL)
                killed_after.append(done)
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_after_two_tasks, daemon=True)
    watcher.start()
    res = CliRunner().invoke(cli, common + ["--model", f"{a},{b}", "-M", "backoff_s=0.05", "--out", str(out)])
    watcher.join(timeout=10)
    assert res.exit_code == 0, res.output
    assert killed_after and killed_after[0] < 6, killed_after  # killed while tasks were left
    assert victim.wait(timeout=10) == -signal.SIGKILL
    # calls were sent to the dead server after the kill and went to the live one
    assert any(b in r.getMessage() and "retrying" in r.getMessage() for r in caplog.records)
    ref = CliRunner().invoke(cli, common + ["--model", a, "--out", str(tmp_path / "ref")])
    assert ref.exit_code == 0, ref.output
    got = _samples(out)
    assert len(got) == len({(t, i) for t, i, _ in got}) == 6  # every candidate exactly once
    assert got == _samples(tmp_path / "ref")
