"""HumanEval+/MBPP+ problems as evalplus 0.3.1 sees them, and their expected outputs.

Why here: evalplus turns some MBPP+ inputs back into tuples, sets and complex numbers
after reading the JSON release (``mbpp_deserialize_inputs``); programs must receive
exactly those values or their verdicts drift. Expected outputs are computed by running
the canonical solutions through restrl's own executor (never in the harness process)
and cached on disk keyed by the release's hash, with the time of every call, from
which the per-test time limits follow (``max(1.0, 4 x ground-truth time)``).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from restrl_eval.benchmarks.data import RELEASES, load_rows, locate
from restrl_eval.benchmarks.sandbox.codec import make_encoder

if TYPE_CHECKING:
    from restrl_eval.execution import Executor

log = logging.getLogger(__name__)

ENV_CACHE_DIR = "RESTRL_CACHE_DIR"
TRUTH_VERSION = 3  # bump when the driver's truth mode or the codec changes what is stored

# evalplus' special oracles (evalplus/eval/_special_oracle.py), by entry point
MBPP_OUTPUT_NOT_NONE = frozenset({"check_str", "text_match_three", "text_starta_endb"})
MBPP_OUTPUT_SET_EQ = frozenset({"similar_elements", "find_char_long", "common_in_nested_lists",
                                "extract_singly", "larg_nnum", "intersection_array", "find_dissimilar", "Diff"})


def _tuples(xs: Iterable[Any]) -> list[Any]:
    return [tuple(x) for x in xs]


def _deep_tuple(x: Any) -> Any:
    return tuple(_deep_tuple(v) for v in x) if isinstance(x, list) else x


# MBPP+ task number -> how one argument list is rebuilt from JSON (evalplus/data/mbpp.py)
_EACH_ARG_TUPLE = {2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630,
                   726, 740, 744, 809}
_EACH_ARG_LIST_OF_TUPLES = {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}
_FIRST_ARG_LIST_OF_TUPLES = {75, 413, 444, 753}
_SECOND_ARG_TUPLE = {106, 750}
_FIRST_ARG_TUPLE = {250, 405, 446, 617, 720, 763, 808}
_NESTED_TUPLES = {259, 401, 445}
_ALL_TUPLES = {580, 615, 791}


def _mbpp_args(number: int, args: list[Any]) -> Any:
    if number in _EACH_ARG_TUPLE:
        return _tuples(args)
    if number in _EACH_ARG_LIST_OF_TUPLES:
        return [_tuples(arg) for arg in args]
    if number in _FIRST_ARG_LIST_OF_TUPLES:
        return [_tuples(args[0]), args[1]]
    if number in _SECOND_ARG_TUPLE:
        return [args[0], tuple(args[1])]
    if number == 115:
        return [[set(item) if isinstance(item, list) and len(item) else {} for item in args[0]]]
    if number == 124:
        return (float(args[0]), complex(args[1]))
    if number in _FIRST_ARG_TUPLE:
        return [tuple(args[0]), args[1]]
    if number in _NESTED_TUPLES:
        return _tuples([_tuples(arg) for arg in args])
    if number == 278:
        return _tuples([[tuple(v) if isinstance(v, list) else v for v in args[0]]])
    if number == 307:
        return [tuple(args[0]), args[1], args[2]]
    if number == 722:
        return [{k: tuple(v) for k, v in args[0].items()}, *args[1:]]
    if number == 252:
        return [complex(args[0])]
    if number in _ALL_TUPLES:
        return _deep_tuple(args)
    return args


def mbpp_inputs(task_id: str, inputs: list[list[Any]]) -> list[Any]:
    """The argument lists evalplus passes for MBPP+ task ``task_id``."""
    number = int(task_id.split("/")[-1])
    return [_mbpp_args(number, args) for args in inputs]


def mbpp_failed_inputs_for_json(task_id: str, inputs: list[Any]) -> list[Any]:
    """evalplus' ``mbpp_serialize_inputs``: make the reported failing inputs JSON-able."""
    number = int(task_id.split("/")[-1])
    if number == 115:
        return [[[list(item) for item in inp[0]]] for inp in inputs]
    if number == 124:
        return [(str(inp[0]), str(inp[1])) for inp in inputs]
    if number == 252:
        return [[str(inp[0])] for inp in inputs]
    return inputs


@dataclass(frozen=True)
class Problem:
    """One evalplus problem with its inputs already rebuilt to Python values."""

    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    atol: float
    base_input: list[Any]
    plus_input: list[Any]
    row: Mapping[str, Any]


@dataclass(frozen=True)
class Dataset:
    """A pinned release: its problems in file order and evalplus' hash (md5 of the JSONL)."""

    family: str  # "humaneval" | "mbpp"
    release: str  # "humaneval+" | "mbpp+"
    problems: dict[str, Problem]
    md5: str
    path: Path


_DATASETS: dict[tuple[str, str], Dataset] = {}
_DATASET_LOCK = threading.Lock()


def load_dataset(family: str, data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """Load (once per process) and verify the release of ``family``."""
    release = {"humaneval": "humaneval+", "mbpp": "mbpp+"}[family]
    path = locate(release, data_dir)
    key = (release, str(path))
    with _DATASET_LOCK:
        if key in _DATASETS:
            return _DATASETS[key]
        rows = load_rows(release, data_dir)
        problems: dict[str, Problem] = {}
        for row in rows:
            base, plus = row["base_input"], row["plus_input"]
            if family == "mbpp":
                base, plus = mbpp_inputs(row["task_id"], base), mbpp_inputs(row["task_id"], plus)
            problems[row["task_id"]] = Problem(row["task_id"], row["prompt"], row["entry_point"],
                                               row["canonical_solution"], float(row["atol"]), base, plus, row)
        ds = Dataset(family, release, problems, RELEASES[release].raw_md5, path)
        _DATASETS[key] = ds
        return ds


def cache_dir() -> Path:
    base = os.environ.get(ENV_CACHE_DIR) or os.path.join(os.path.expanduser("~"), ".cache", "restrl")
    return Path(base)


@dataclass(frozen=True)
class Truth:
    """Expected outputs (codec trees) and ground-truth seconds per input, per phase.

    Outputs too large to carry whole are None in ``base``/``plus`` and described in
    ``base_large``/``plus_large`` by index: ``{"h": canonical digest, "e": exotic,
    "f": evalplus' is_floats of the value}``."""

    base: list[Any]
    base_time: list[float]
    plus: list[Any]
    plus_time: list[float]
    base_large: dict[int, dict[str, Any]] = field(default_factory=dict)
    plus_large: dict[int, dict[str, Any]] = field(default_factory=dict)
    base_mem: list[int] = field(default_factory=list)  # approximate bytes of each expected output
    plus_mem: list[int] = field(default_factory=list)

    def to_json(self, task_id: str) -> str:
        return json.dumps({"task_id": task_id, "base": self.base, "base_time": self.base_time, "plus": self.plus,
                           "plus_time": self.plus_time, "base_large": self.base_large, "plus_large": self.plus_large,
                           "base_mem": self.base_mem, "plus_mem": self.plus_mem})

    @classmethod
    def from_json(cls, rec: Mapping[str, Any]) -> Truth:
        return cls(rec["base"], rec["base_time"], rec["plus"], rec["plus_time"],
                   {int(k): v for k, v in rec.get("base_large", {}).items()},
                   {int(k): v for k, v in rec.get("plus_large", {}).items()},
                   rec.get("base_mem", []), rec.get("plus_mem", []))


# evalplus 0.3.1 judges in forks of pool workers that are forks of its main process, all
# under a 4 GiB RLIMIT_AS. The main process holds every expected output of the release;
# each worker also unpickles its task's problem and expected outputs. A program whose
# output at some input needs more than what is left fails there with MemoryError, the
# canonical solution included (Mbpp/255: the main process is at 2.1 GB, the worker at
# 3.6 GB, and plus input 85 needs 1.1 GB). restrl reproduces that wall from the sizes of
# the expected outputs, measured when they are computed.
EVALPLUS_MEMORY_LIMIT = 4 * 1024 ** 3
EVALPLUS_MAIN_VMS = {  # measured: evalplus 0.3.1, Python 3.11, numpy 1.24, after loading its ground truth
    "ee43ecabebf20deef4bb776a405ac5b1": 2.10e9,  # MBPP+ v0.2.0
    "fe585eb4df8c88d844eeb463ea4d0302": 1.07e9,  # HumanEval+ v0.1.10
}
EVALPLUS_BASE_VMS = 0.41e9  # after its imports and problems, for releases not measured above


def memory_wall(dataset_md5: str, truth: Truth, phase: str) -> int | None:
    """Index of the first input of ``phase`` at which evalplus would run out of memory."""
    mems = truth.base_mem if phase == "base" else truth.plus_mem
    task = sum(truth.base_mem) + sum(truth.plus_mem)
    footprint = EVALPLUS_MAIN_VMS.get(dataset_md5, EVALPLUS_BASE_VMS + task) + task
    for i, m in enumerate(mems):
        if footprint + m > EVALPLUS_MEMORY_LIMIT:
            return i
    return None


def encode_inputs(inputs: list[Any]) -> Any:
    return make_encoder()(inputs)


class TruthCache:
    """Expected outputs of one dataset, filled on demand and appended to a JSONL file.

    Keyed by the release's md5 (evalplus' dataset hash), the truth format version and
    the Python minor version (outputs such as float formatting can depend on it).
    Appending line by line means an interrupted computation keeps what it finished.
    """

    def __init__(self, dataset: Dataset) -> None:
        import sys

        self.dataset = dataset
        py = f"py{sys.version_info.major}{sys.version_info.minor}"
        self.path = cache_dir() / "evalplus" / f"{dataset.release.rstrip('+')}plus-{dataset.md5}-v{TRUTH_VERSION}-{py}.jsonl"
        self._lock = threading.Lock()
        self._truth: dict[str, Truth] | None = None

    def _load(self) -> dict[str, Truth]:
        if self._truth is None:
            truth: dict[str, Truth] = {}
            if self.path.is_file():
                with open(self.path, encoding="utf-8") as f:
                    for line in f:
                        try:
                            rec = json.loads(line)
                            truth[rec["task_id"]] = Truth.from_json(rec)
                        except (ValueError, KeyError, TypeError):
                            continue  # a torn last line after a kill: recomputed below
            self._truth = truth
        return self._truth

    def peek(self, task_id: str) -> Truth | None:
        """The cached truth of ``task_id``, or None; never computes."""
        with self._lock:
            return self._load().get(task_id)

    def get(self, task_ids: Iterable[str], executor: Executor,
            compute: Callable[[list[Problem], Any], dict[str, Truth]]) -> dict[str, Truth]:
        """Truth for ``task_ids``, computing (through ``executor``) and caching the missing ones."""
        with self._lock:
            truth = self._load()
            wanted = list(dict.fromkeys(task_ids))
            missing = [self.dataset.problems[t] for t in wanted if t not in truth]
            if missing:
                log.info("computing expected outputs of %d %s tasks (cached in %s)",
                         len(missing), self.dataset.release, self.path)
                new = compute(missing, executor)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as f:
                    for task_id, t in new.items():
                        f.write(t.to_json(task_id) + "\n")
                        f.flush()
                truth.update(new)
            return {t: truth[t] for t in wanted}
