"""Judge a file (or folder) of samples on any registered benchmark, resumably.

Why a library module: ``restrl-eval evaluate`` is a thin shell around ``evaluate()``;
runs, sweeps and tests call the same function. Input is evalplus' samples format
(JSONL lines with ``task_id`` and ``solution`` or ``completion``; or evalplus' folder
layout ``<Task_Id>/<n>.py``; a run's ``samples.jsonl`` works too). Output, in one directory
laid out like a run directory (``restrl_eval/run/SCHEMA.md``):

- ``config.json``: ``kind: "evaluate"``, the benchmark, its data hash and options. A folder
  made by anything else (a run, another benchmark or data) is refused, never mixed;
- ``samples.jsonl``: the samples judged, each with its per-task ``index``;
- ``verdicts.jsonl``: while judging, one line per distinct program (keyed by a hash of
  benchmark, data hash, task id and program), appended and flushed as each is judged, so
  a rerun skips what is there and a SIGKILL loses at most the sample being judged; when
  done, rewritten with exactly one row per current sample, in sample order, each linked to
  it (``sample_index``, ``solution_id``): verdicts of programs no longer in the samples
  file are dropped, so the file always agrees with ``summary.json``;
- ``eval_results.json``: evalplus 0.3.1's layout (date, hash, eval{task_id: [...]});
- ``summary.json``: counts and pass@k per column (unbiased estimator), the same names as
  a run's summary.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from restrl_eval.benchmarks import Benchmark, Verdict, get_benchmark
from restrl_eval.jsonl import iter_jsonl
from restrl_eval.report.passk import estimate_pass_at_k, ks_for
from restrl_eval.run import store as _schema

log = logging.getLogger(__name__)

__all__ = ["EvaluateError", "Sample", "Evaluation", "evaluate", "load_samples", "default_out_dir", "summary_table"]

VERDICTS_FILE, RESULTS_FILE, SUMMARY_FILE = "verdicts.jsonl", "eval_results.json", "summary.json"
CONFIG_FILE, SAMPLES_FILE = "config.json", "samples.jsonl"
# options that do not change a verdict (where the data came from is in the data hash)
_NON_IDENTITY_OPTIONS = ("data_dir", "apps_path")


class EvaluateError(ValueError):
    """Bad samples input. ``str()`` is one line naming the file, line and field."""


@dataclass(frozen=True)
class Sample:
    """One program to judge, and where it came from (for error messages)."""

    task_id: str
    solution: str
    source: str
    line: int
    key: str = ""
    index: int = 0  # position among this task's samples (samples.jsonl "index")


@dataclass(frozen=True)
class Evaluation:
    """What ``evaluate`` returns: the files it wrote and the summary it computed."""

    out_dir: Path
    summary: Mapping[str, Any]
    judged: int  # samples judged in this call (the rest came from verdicts.jsonl)
    verdicts: Mapping[str, Mapping[str, Any]] = field(repr=False, default_factory=dict)


# -- reading samples ---------------------------------------------------------------------------
def _sample_from_record(rec: Any, source: str, line: int, bench: Benchmark, known: set[str]) -> Sample:
    where = f"{source}:{line}"
    if not isinstance(rec, dict):
        raise EvaluateError(f"{where}: expected a JSON object, got {type(rec).__name__}")
    if "task_id" not in rec:
        raise EvaluateError(f"{where}: field 'task_id' is missing")
    task_id = rec["task_id"]
    if not isinstance(task_id, str):
        raise EvaluateError(f"{where}: field 'task_id' must be a string")
    if task_id not in known:
        raise EvaluateError(f"{where}: field 'task_id': unknown task id {task_id!r} for benchmark {bench.name}")
    for name in ("solution", "completion"):
        if name in rec and not isinstance(rec[name], str):
            raise EvaluateError(f"{where}: field {name!r} must be a string")
    if "solution" not in rec and "completion" not in rec and isinstance(rec.get("code"), str):
        rec = {**rec, "solution": rec["code"]}  # a format-1 run's samples.jsonl
    if "solution" not in rec and "completion" not in rec:
        raise EvaluateError(f"{where}: field 'solution' (or 'completion') is missing")
    task = bench.task(task_id)
    if "solution" in rec:
        solution = rec["solution"]
    else:
        solution = bench.solution_from_sample(task, rec)
    return Sample(task_id, solution, source, line)


def _jsonl_samples(path: Path, bench: Benchmark, known: set[str]) -> Iterable[Sample]:
    for n, rec in iter_jsonl(path, EvaluateError, invalid="malformed JSON"):
        yield _sample_from_record(rec, str(path), n, bench, known)


def _folder_samples(path: Path, bench: Benchmark, known: set[str]) -> Iterable[Sample]:
    """evalplus' folder layout: ``<dir>/<Task_Id>/<n>.py`` (``/`` written as ``_``)."""
    for task_dir in sorted(p for p in path.iterdir() if p.is_dir()):
        files = sorted((p for p in task_dir.iterdir() if p.suffix == ".py" and p.is_file()),
                       key=lambda p: (int(p.stem) if p.stem.isdigit() else float("inf"), p.name))
        for f in files:
            rec = {"task_id": task_dir.name.replace("_", "/"), "solution": f.read_text(encoding="utf-8")}
            yield _sample_from_record(rec, str(f), 1, bench, known)


def load_samples(path: str | os.PathLike[str], bench: Benchmark) -> list[Sample]:
    """All samples under ``path`` (a JSONL file, a folder of them, or evalplus' folder layout)."""
    path = Path(path)
    if not path.exists():
        raise EvaluateError(f"{path}: no such file or directory")
    known = {t.task_id for t in bench.tasks()}
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".jsonl" and p.is_file())
        samples = [s for f in files for s in _jsonl_samples(f, bench, known)] if files \
            else list(_folder_samples(path, bench, known))
    else:
        samples = list(_jsonl_samples(path, bench, known))
    if not samples:
        raise EvaluateError(f"{path}: no samples found")
    data_hash = bench.data_hash()
    seen: Counter[str] = Counter()
    out = []
    for s in samples:
        out.append(Sample(s.task_id, s.solution, s.source, s.line,
                          sample_key(bench.name, data_hash, s.task_id, s.solution), seen[s.task_id]))
        seen[s.task_id] += 1
    return out


sample_key = _schema.solution_id  # the same identity as a run's verdict rows carry


def default_out_dir(samples: str | os.PathLike[str]) -> Path:
    """Next to the samples: ``x/s.jsonl`` -> ``x/s_eval``; folder ``x/d`` -> ``x/d_eval``."""
    p = Path(samples)
    stem = p.name[: -len(".jsonl")] if p.is_file() and p.name.endswith(".jsonl") else p.name
    return p.parent / f"{stem}_eval"


# -- the verdict store ---------------------------------------------------------------------------
class _VerdictStore:
    """``verdicts.jsonl``: read what exists (ignoring a torn last line), append as we go."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        if path.is_file():
            raw = path.read_bytes()
            for line in raw.decode("utf-8", "replace").splitlines():
                try:
                    rec = json.loads(line)
                    self.records[rec["key"]] = rec
                except (ValueError, KeyError, TypeError):
                    continue
            if raw and not raw.endswith(b"\n"):  # killed mid-line: start the next record cleanly
                with open(path, "ab") as f:
                    f.write(b"\n")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(path, "a", encoding="utf-8")

    def add(self, key: str, verdict: Verdict) -> dict[str, Any]:
        rec = {"key": key, "task_id": verdict.task_id, "passed": verdict.passed, "status": verdict.status,
               "reward": verdict.reward, "tests_passed": verdict.tests_passed, "tests_total": verdict.tests_total,
               "details": dict(verdict.details)}
        line = json.dumps(rec, default=str) + "\n"
        with self._lock:
            self._f.write(line)
            self._f.flush()
            self.records[key] = rec
        return rec

    def close(self) -> None:
        self._f.close()


# -- judging -------------------------------------------------------------------------------------
def _judge_all(bench: Benchmark, todo: list[Sample], store: _VerdictStore, workers: int, progress: bool) -> None:
    from tqdm import tqdm

    from restrl_eval.execution import Executor

    if not todo:
        return
    with Executor(workers=workers, preload=tuple(bench.preload)) as ex:
        bench.prepare(sorted({s.task_id for s in todo}), ex)
        # longest tasks first: the pool's tail is then short jobs (a 0.0 default keeps the order)
        cost = {t: float(bench.cost_hint(t)) for t in {s.task_id for s in todo}}
        todo = sorted(todo, key=lambda s: -cost[s.task_id])
        bar = tqdm(total=len(todo), desc=f"judging {bench.name}", unit="sample", disable=not progress)

        def judge(sample: Sample) -> None:
            verdict = bench.check(bench.task(sample.task_id), [sample.solution], ex)[0]
            store.add(sample.key, verdict)
            bar.update(1)

        with cf.ThreadPoolExecutor(max(1, 2 * ex.n_workers)) as pool:
            for fut in cf.as_completed([pool.submit(judge, s) for s in todo]):
                fut.result()
        bar.close()


def evaluate(bench_name: str, samples: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None,
             workers: int | None = None, options: Mapping[str, Any] | None = None,
             progress: bool = False) -> Evaluation:
    """Judge every sample not judged yet in ``out_dir``, then write results and summary."""
    bench = get_benchmark(bench_name, **dict(options or {}))
    loaded = load_samples(samples, bench)
    out = Path(out_dir) if out_dir else default_out_dir(samples)
    _claim_folder(out, bench, options or {}, str(samples))
    store = _VerdictStore(out / VERDICTS_FILE)
    try:
        todo, seen = [], set(store.records)
        for s in loaded:
            if s.key not in seen:
                seen.add(s.key)
                todo.append(s)
        log.info("%d samples, %d distinct to judge, %d already judged", len(loaded), len(todo),
                 len({s.key for s in loaded}) - len(todo))
        _judge_all(bench, todo, store, workers or max(1, (os.cpu_count() or 2) // 2), progress)
        records = {s.key: store.records[s.key] for s in loaded}
    finally:
        store.close()
    _write_samples(out, samples, loaded)
    _write_lines(out / VERDICTS_FILE, [_linked(s, records[s.key]) for s in loaded])
    summary = summarize(bench, loaded, records)
    date = datetime.now().strftime("%Y-%m-%d %H:%M")
    results = _schema.eval_results(bench.data_hash(), ((s.task_id, s.solution, records[s.key]) for s in loaded),
                                   [t.task_id for t in bench.tasks()], date)
    _write_json(out / RESULTS_FILE, results)
    _write_json(out / SUMMARY_FILE, summary)
    return Evaluation(out, summary, len(todo), records)


def _identity(bench: Benchmark, options: Mapping[str, Any]) -> dict[str, Any]:
    opts = {k: v for k, v in sorted(options.items()) if k not in _NON_IDENTITY_OPTIONS}
    return {"kind": _schema.KIND_EVALUATE, "benchmark": {"name": bench.name, "data_hash": bench.data_hash(),
                                                        "options": opts, "columns": list(bench.columns)}}


def _claim_folder(out: Path, bench: Benchmark, options: Mapping[str, Any], samples: str = "") -> None:
    """Refuse ``out`` when it holds anything but this benchmark's evaluate output; record
    what makes it (config.json) before the first verdict is written."""
    try:
        kind = _schema.folder_kind(out)
    except _schema.RunStoreError as exc:
        raise EvaluateError(str(exc)) from None
    new = _identity(bench, options)
    if kind not in (None, _schema.KIND_EVALUATE):
        raise EvaluateError(f"{out}: this folder holds a '{kind}' output (config.json), not an evaluation; "
                            f"pass another --out")
    cfg = out / CONFIG_FILE
    old = json.loads(cfg.read_text(encoding="utf-8")) if cfg.exists() else _legacy_identity(out)
    if old is not None:
        was = {"name": (old.get("benchmark") or {}).get("name"), "data_hash": (old.get("benchmark") or {}).get("data_hash")}
        was_opts = (old.get("benchmark") or {}).get("options", new["benchmark"]["options"])
        for key, before, now in (("benchmark", was["name"], bench.name), ("data_hash", was["data_hash"],
                                 bench.data_hash()), ("options", was_opts, new["benchmark"]["options"])):
            if before is not None and before != now:
                raise EvaluateError(f"{out}: this folder holds another evaluation ({key} was {before!r}, now "
                                    f"{now!r}); pass another --out")
    if not cfg.exists():
        out.mkdir(parents=True, exist_ok=True)
        doc = {"format": _schema.FORMAT_VERSION, **new, "samples": samples, "versions": _schema.package_versions(),
               "created": datetime.now().astimezone().isoformat(timespec="seconds")}
        _write_json(cfg, doc, indent=2)


def _legacy_identity(out: Path) -> dict[str, Any] | None:
    """What a format-1 evaluate folder (no config.json) was made for, from its summary."""
    for name, read in ((SUMMARY_FILE, lambda d: (d.get("benchmark"), d.get("data_hash"))),
                       (RESULTS_FILE, lambda d: (None, d.get("hash")))):
        path = out / name
        if path.exists():
            try:
                bench, data_hash = read(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, AttributeError):
                raise EvaluateError(f"{path}: not valid JSON; the folder is damaged") from None
            return {"benchmark": {"name": bench, "data_hash": data_hash}}
    return None


def _linked(sample: Sample, rec: Mapping[str, Any]) -> dict[str, Any]:
    """A final verdicts.jsonl row: the verdict of one current sample, linked to it."""
    body = {k: v for k, v in rec.items() if k not in ("key", "task_id", "sample_index", "solution_id")}
    return {"task_id": sample.task_id, "sample_index": sample.index, "solution_id": sample.key,
            "key": sample.key, **body}


def _write_samples(out: Path, source: str | os.PathLike[str], samples: list[Sample]) -> None:
    target = out / SAMPLES_FILE
    if Path(source).resolve() == target.resolve():
        return
    _write_lines(target, [{"task_id": s.task_id, "index": s.index, "solution": s.solution,
                           "source": s.source, "line": s.line} for s in samples])


def _write_lines(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, default=str) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_json(path: Path, obj: Any, indent: int | None = None) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, default=str, indent=indent, sort_keys=indent is not None)
    os.replace(tmp, path)


# -- reports -------------------------------------------------------------------------------------
def summarize(bench: Benchmark, samples: list[Sample], records: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Counts and unbiased pass@k per column over the tasks that have samples (format 2:
    the names a run's summary.json uses; ``pass_rate`` is pass@1).

    Samples whose verdict is ``skipped`` (a benchmark could not run them, e.g. a missing
    library) are left out of pass@k and listed, never counted as failures.
    ``mean_reward`` is the mean over tasks of the mean fraction of tests passed (APPS)."""
    per_task: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    skipped: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for s in samples:
        rec = records[s.key]
        statuses[rec["status"]] += 1
        if rec["status"] == "skipped":
            skipped[str(rec.get("details", {}).get("reason", "skipped"))] += 1
            continue
        per_task[s.task_id].append(rec)
    order = [t.task_id for t in bench.tasks() if t.task_id in per_task]
    n = [len(per_task[t]) for t in order]
    pass_at_k: dict[str, dict[str, float]] = {}
    for col in bench.columns:
        correct = [sum(_schema.column_passed(r, col) for r in per_task[t]) for t in order]
        pass_at_k[col] = {f"pass@{k}": float(estimate_pass_at_k(n, correct, k).mean()) for k in ks_for(n)}
    rewards = [sum(float(r.get("reward") or 0.0) for r in per_task[t]) / len(per_task[t]) for t in order]
    n_tasks = len(bench.tasks())
    return {
        "format": _schema.FORMAT_VERSION, "kind": _schema.KIND_EVALUATE,
        "benchmark": bench.name, "data_hash": bench.data_hash(), "columns": list(bench.columns),
        "n_samples": len(samples), "n_tasks": len(order), "n_tasks_in_benchmark": n_tasks,
        "samples_per_task": {"min": min(n, default=0), "max": max(n, default=0)},
        "statuses": dict(statuses), "skipped": dict(skipped), "pass_at_k": pass_at_k,
        "pass_rate": {c: pass_at_k[c].get("pass@1", 0.0) for c in bench.columns},
        "mean_reward": sum(rewards) / len(rewards) if rewards else 0.0,
        "tasks": len({s.task_id for s in samples}), "total_tasks": n_tasks,
    }


def summary_table(summary: Mapping[str, Any]) -> str:
    """The summary's pass@k as a plain-text table (one row per column)."""
    from tabulate import tabulate

    ks = sorted({k for v in summary["pass_at_k"].values() for k in v}, key=lambda s: int(s.split("@")[1]))
    rows = [[f"{summary['benchmark']} ({col})", *[summary["pass_at_k"][col].get(k) for k in ks]]
            for col in summary["columns"]]
    return tabulate(rows, headers=["benchmark", *ks], floatfmt=".3f")
