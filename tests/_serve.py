"""Start ``restrl-eval serve`` in a subprocess for tests that need a real OpenAI-compatible
server (the session fixture in conftest.py and the fleet tests)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest


def start_serve(model_dir: str, log_path: Path, *extra: str, timeout: float = 180) -> tuple[subprocess.Popen, str]:
    """The server process and its base URL (``http://127.0.0.1:PORT/v1``), read from its first
    stdout line; stderr goes to ``log_path`` (a file, not a pipe: a full pipe would block the
    server). A server that does not start within ``timeout`` seconds fails the test."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen([sys.executable, "-m", "restrl_eval.cli.main", "serve", "--model", model_dir,
                                 "--port", "0", "--device", "cpu", *extra],
                                stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=timeout)
    if not line or " on http" not in line[0]:
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail(f"restrl-eval serve did not start: {line} {log_path.read_text()[-2000:]}")
    return proc, line[0].split(" on ", 1)[1].strip()
