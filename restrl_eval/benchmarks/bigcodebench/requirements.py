"""Which BigCodeBench tasks can run here: their libraries and NLTK data, probed in the sandbox.

Why: a task whose library is not installed (TensorFlow is too big for CI) or whose NLTK
corpus cannot be downloaded (no network) fails for reasons that say nothing about the
program under test. Such tasks are reported as ``skipped: missing <lib>``, never counted as
failures. What a task needs is read from its ``libs`` field plus the imports of its prompt
and test code; whether a module imports is asked *inside the sandbox* (the sandbox sees
only the Python prefix and /usr, so a library or NLTK data elsewhere is as good as absent),
once per installation, and cached on disk keyed by the installed distributions.
"""
from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from restrl_eval.execution import Executor

log = logging.getLogger(__name__)

ALWAYS = ("matplotlib",)  # bigcodebench's reliability_guard imports matplotlib.pyplot for every task

# NLTK resources (nltk.data.find paths) and the task text that shows a need for them.
NLTK_RESOURCES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("corpora/stopwords", re.compile(r"\bstopwords\b")),
    ("tokenizers/punkt", re.compile(r"\b(word_tokenize|sent_tokenize|punkt)\b")),
    ("taggers/averaged_perceptron_tagger", re.compile(r"\bpos_tag\b")),
    ("corpora/wordnet", re.compile(r"\b(wordnet|WordNetLemmatizer)\b")),
    ("sentiment/vader_lexicon", re.compile(r"\bSentimentIntensityAnalyzer\(")),
    ("corpora/words", re.compile(r"\bwords\.words\(")),
)
NLTK_PREFIX = "nltk_data:"

# Measured on BigCodeBench v0.1.0_hf (the pinned release): every task whose code or tests use
# nltk or textblob, run with its canonical solution and no NLTK data at all; listed are the
# resources whose absence made it fail (LookupError / textblob's MissingCorpusError), and ()
# for the tasks that passed anyway (their tests pass stop words in, or mock the analyser).
# Tasks outside this table fall back to the NLTK_RESOURCES text rules above.
_S, _P, _T, _W = "corpora/stopwords", "tokenizers/punkt", "taggers/averaged_perceptron_tagger", "corpora/words"
NLTK_MEASURED: dict[str, tuple[str, ...]] = {f"BigCodeBench/{k}": v for k, v in {
    31: (), 177: (_P,), 290: (_S,), 319: (), 332: (_S,), 334: (_P,), 376: (_S,), 383: (_P,), 633: (_S,),
    635: (_S,), 655: (_S,), 656: (), 657: (), 658: (_S,), 726: (_W,), 732: (), 734: (_P, _T), 744: (),
    806: (_S,), 808: (_S,), 838: (), 849: (_S,), 940: (_P,), 1094: (), 1095: (), 1096: (), 1109: (_P,),
}.items()}


@dataclass(frozen=True)
class Needs:
    """What one task needs: importable module names and NLTK resources."""

    modules: tuple[str, ...]
    nltk: tuple[str, ...] = ()

    def probes(self) -> tuple[str, ...]:
        return self.modules + tuple(NLTK_PREFIX + r for r in self.nltk)


def _imports(code: str) -> set[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # task code has invalid escapes such as '\W'
            tree = ast.parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def task_needs(row: Mapping[str, Any]) -> Needs:
    """Modules and NLTK data the task's own code and tests need (not the program's extras)."""
    try:
        libs = set(ast.literal_eval(row.get("libs") or "[]"))
    except (ValueError, SyntaxError):
        libs = set()
    mods = libs | _imports(row.get("code_prompt", "")) | _imports(row.get("test", "")) | set(ALWAYS)
    mods.discard("__future__")
    text = "\n".join(row.get(k, "") for k in ("code_prompt", "canonical_solution", "test"))
    nltk: tuple[str, ...] = ()
    if row.get("task_id") in NLTK_MEASURED:
        nltk = NLTK_MEASURED[row["task_id"]]
    elif "nltk" in mods or "textblob" in mods:
        nltk = tuple(name for name, pat in NLTK_RESOURCES if pat.search(text))
    return Needs(tuple(sorted(mods)), nltk)


# -------------------------------------------------------------------------------------------
# probing inside the sandbox
# -------------------------------------------------------------------------------------------
PROBE_DRIVER = r'''
import importlib, os, time

name = restrl.payload
t0 = time.monotonic()
if name.startswith("nltk_data:"):
    import nltk
    try:
        nltk.data.find(name[len("nltk_data:"):])
        restrl.emit(kind="probe", name=name, ok=True, error="")
    except LookupError:
        restrl.emit(kind="probe", name=name, ok=False, error="LookupError: not found in " + ", ".join(nltk.data.path))
else:
    try:
        importlib.import_module(name)
        restrl.emit(kind="probe", name=name, ok=True, error="", seconds=round(time.monotonic() - t0, 3))
    except BaseException as exc:
        restrl.emit(kind="probe", name=name, ok=False, error=(type(exc).__name__ + ": " + str(exc))[:300])
'''


def _install_key() -> str:
    """A key that changes when the installation, or the NLTK data the sandbox can see, changes."""
    h = hashlib.sha256()
    h.update(sys.executable.encode())
    h.update(sys.version.encode())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"])
    h.update("\n".join(dists).encode())
    for root in (Path(sys.prefix) / "nltk_data", Path("/usr/share/nltk_data"), Path("/usr/local/share/nltk_data"),
                 Path("/usr/lib/nltk_data"), Path("/usr/local/lib/nltk_data")):
        if root.is_dir():
            h.update(str(root).encode() + b":" + ",".join(sorted(p.name for p in root.rglob("*"))).encode())
    return h.hexdigest()[:24]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "restrl"


class Prober:
    """Answers "does this import inside the sandbox?" once per name and installation.

    Names not seen before are tried, each in its own sandboxed job (one crash cannot hide
    another result); answers are merged into an on-disk cache keyed by the installation."""

    def __init__(self, use_cache: bool = True) -> None:
        self.use_cache = use_cache
        self.path = _cache_dir() / f"bcb-probe-{_install_key()}.json" if use_cache else None
        self.known: dict[str, str] = {}
        if self.path is not None and self.path.is_file():
            try:
                self.known = {str(k): str(v) for k, v in json.loads(self.path.read_text()).items()}
            except (OSError, ValueError):
                self.known = {}

    def __call__(self, names: Iterable[str], executor: Executor) -> dict[str, str]:
        """``{name: ""}`` for importable modules / present NLTK data, ``{name: error}`` else."""
        from restrl_eval.execution import Job, Limits, Profile

        todo = sorted(set(names) - set(self.known))
        if todo:
            jobs = [Job(program="", driver=PROBE_DRIVER, payload=n, profile=Profile.PERMISSIVE,
                        limits=Limits(timeout_s=120.0, memory_mb=8192), tag=n) for n in todo]
            for name, res in zip(todo, executor.run_many(jobs)):
                msg = next((m for m in res.messages if m.get("kind") == "probe"), None)
                if msg is None:
                    self.known[name] = f"probe {res.status.value}: {res.detail or res.stderr[-200:]}".strip()
                else:
                    self.known[name] = "" if msg.get("ok") else str(msg.get("error") or "import failed")
            self._save()
        return {n: self.known[n] for n in names}

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.known, indent=1, sort_keys=True))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot cache the BigCodeBench library probe at %s: %s", self.path, exc)


def missing(needs: Needs, available: Mapping[str, str]) -> list[str]:
    """The task's needs that the probe found absent, NLTK data as ``nltk_data:<resource>``."""
    return [n for n in needs.probes() if available.get(n, "not probed")]
