"""Run evalplus 0.3.1 itself on a samples file, in its own virtual environment.

Why a separate interpreter: evalplus must not be a dependency of restrl, and its
pinned dependencies (tree-sitter, datasets) should not touch restrl's environment.
``EVALPLUS_PYTHON`` names an interpreter that already has evalplus 0.3.1; otherwise a
venv is created once under the restrl cache directory from ``requirements-evalplus.txt``.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-evalplus.txt"


def evalplus_python() -> str:
    if os.environ.get("EVALPLUS_PYTHON"):
        return os.environ["EVALPLUS_PYTHON"]
    from restrl_eval.benchmarks.evalplus.data import cache_dir

    venv = cache_dir() / "evalplus-0.3.1-venv"
    py = venv / "bin" / "python"
    if not py.exists() or subprocess.run([str(py), "-c", "import evalplus.evaluate"], capture_output=True).returncode:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        reqs = [line.strip() for line in REQUIREMENTS.read_text().splitlines() if line.strip() and not line.startswith("#")]
        evalplus = [r for r in reqs if r.startswith("evalplus")]
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", *evalplus], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *[r for r in reqs if r not in evalplus]], check=True)
    return str(py)


def decompressed(release_gz: Path, workdir: Path) -> Path:
    """evalplus hashes the override file's bytes: give it the raw JSONL for the official hash."""
    out = workdir / release_gz.name[: -len(".gz")]
    if not out.exists():
        with gzip.open(release_gz, "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


def run_evalplus(dataset: str, samples: Path, workers: int, workdir: Path) -> dict:
    """evalplus.evaluate on ``samples`` (``dataset``: humaneval | mbpp); its eval_results dict."""
    from restrl_eval.benchmarks.data import locate

    release = locate("humaneval+" if dataset == "humaneval" else "mbpp+")
    env = dict(os.environ)
    env["HUMANEVAL_OVERRIDE_PATH" if dataset == "humaneval" else "MBPP_OVERRIDE_PATH"] = str(decompressed(release, workdir))
    result = samples.with_name(samples.name.replace(".jsonl", "_eval_results.json"))
    if result.exists():
        result.unlink()
    proc = subprocess.run([evalplus_python(), "-m", "evalplus.evaluate", "--dataset", dataset, "--samples",
                           str(samples), "--parallel", str(workers)], env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"evalplus.evaluate failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(result.read_text())
