"""Shared fixtures: tiny real models, built once per test session.

Why session-scoped: building takes a second or two, and every backend, strategy and
run test can share the same checkpoints (they are read-only once saved).
"""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """On a small shared machine torch's thread pool oversubscribes the cores and a tiny
    model runs 10-30x slower; one intra-op thread keeps model tests fast. A module opts in
    with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny random Qwen2 causal LM with a byte-level BPE tokenizer and a ChatML
    chat template, saved as a real checkpoint directory."""
    pytest.importorskip("transformers")
    import torch

    from restrl_eval.testing import build_tiny_lm

    # Tiny matrices gain nothing from a second thread, and on a shared 2-core machine
    # two busy threads per process oversubscribe it (a 5 s fit then takes 80 s).
    torch.set_num_threads(1)

    return str(build_tiny_lm(tmp_path_factory.mktemp("tiny_lm")))


@pytest.fixture(scope="session")
def tiny_scorer_dir(tmp_path_factory: pytest.TempPathFactory, tiny_lm_dir: str) -> str:
    """A tiny random AutoModelForSequenceClassification(num_labels=1) sharing the
    tiny LM's tokenizer."""
    from restrl_eval.testing import build_tiny_scorer

    return str(build_tiny_scorer(tmp_path_factory.mktemp("tiny_scorer"), tiny_lm_dir))


@pytest.fixture(scope="session")
def tiny_policy(tiny_lm_dir: str):
    """The tiny LM loaded once through the transformers backend (CPU)."""
    from restrl_eval.backends import load_policy

    return load_policy(tiny_lm_dir, device="cpu")


@pytest.fixture(scope="session")
def tiny_server_url(tiny_lm_dir: str, tmp_path_factory: pytest.TempPathFactory):
    """``restrl-eval serve`` on the tiny LM in a subprocess, on a free localhost port.

    Yields the base URL (``http://127.0.0.1:PORT/v1``); the served model id is the
    checkpoint path. The server is stopped (SIGTERM) at the end of the session.
    """
    import subprocess

    from tests._serve import start_serve

    proc, url = start_serve(tiny_lm_dir, tmp_path_factory.mktemp("tiny_server") / "stderr.log", timeout=120)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
