"""The tiny policy of the ``mini`` benchmarks: trained on first use, then cached.

Why built, not shipped: its 4-5M float32 weights are close to 20 MB, a binary that git
keeps forever and that would go stale whenever the generator or the recipe changes.
Training it takes minutes on 2 CPU cores from the generated ``mini-train`` split, seeded,
so every machine can make its own. The cache key hashes the recipe (``MINI_POLICY``)
and the training split's content, so a change of either builds a new policy instead of
silently reusing an old one.

Where: ``$RESTRL_CACHE_DIR`` (default ``~/.cache/restrl``) ``/mini-policy/<key>/``.
``RESTRL_MINI_POLICY=DIR`` uses a checkpoint of your own instead. Two processes that
ask at once train it once (a lock file); a build killed midway resumes from its last
checkpoint on the next request.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from restrl_train.sft.config import SFTConfig

log = logging.getLogger(__name__)

__all__ = ["ENV_POLICY", "MINI_POLICY", "mini_policy_dir", "mini_policy_key"]

ENV_POLICY = "RESTRL_MINI_POLICY"
ENV_CACHE = "RESTRL_CACHE_DIR"

MINI_POLICY = SFTConfig(data="mini-train", max_steps=600, batch_size=32, learning_rate=1.5e-3, warmup_ratio=0.05,
                        lr_scheduler="cosine", seed=0, progress=False)
"""The recipe of the ``mini-policy`` alias: 4 layers, d=256 (4.4M parameters), 600 steps of 32
mini-train records (19,200 of 20,000), the cosine schedule annealed to 0 at the last step."""


def mini_policy_key(cfg: SFTConfig = MINI_POLICY) -> str:
    """Hash of the recipe and of the training split it reads."""
    from restrl_eval.benchmarks import get_benchmark

    data_hash = get_benchmark(cfg.data).data_hash()
    return hashlib.sha256(f"{cfg.digest()}:{data_hash}".encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def mini_policy_dir(cfg: SFTConfig = MINI_POLICY, threads: int = 0, progress: bool = False) -> Path:
    """The policy's checkpoint directory, trained first if it is not cached yet."""
    own = os.environ.get(ENV_POLICY)
    if own:
        path = Path(own).expanduser()
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{ENV_POLICY}={own}: not a checkpoint directory (no config.json)")
        return path
    root = Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "restrl").expanduser() / "mini-policy"
    out = root / mini_policy_key(cfg)
    if (out / "sft_summary.json").is_file():
        return out
    from restrl_train.sft.trainer import train_sft

    with _locked(root / f"{out.name}.lock"):
        if not (out / "sft_summary.json").is_file():
            log.warning("building the mini policy (first use; a few minutes on 2 CPU cores) in %s", out)
            train_sft(dataclasses.replace(cfg, output_dir=str(out), threads=threads, progress=progress))
    return out
