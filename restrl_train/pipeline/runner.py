"""Running the stages: fingerprints, skip-or-resume, one command at a time, times.

Why fingerprints: a stage is skipped only when its record says it finished with the same
fingerprint, the hash of its own settings and of its inputs' fingerprints; so a changed
setting reruns that stage and everything downstream, and nothing upstream. Each
fingerprint has its own directory (``OUT/<stage>/<fp>/``): the commands inside refuse an
output made with other settings, so a changed stage must not reuse the old directory,
and a stage killed midway resumes in its own. Inside a stage, finished commands are
listed in ``steps.jsonl`` and not run again; a command killed midway is simply rerun,
and resumes from its own files (the run store, the record files, the checkpoints).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from restrl_train.pipeline.config import PipelineConfig
from restrl_train.pipeline.stages import STAGES, Stage, StageContext, Step

__all__ = ["Events", "StageError", "StageResult", "cpu_seconds", "fingerprint", "run_pipeline", "stage_records"]

RECORD = "stage.json"
STEPS = "steps.jsonl"


class StageError(RuntimeError):
    """A stage's command failed: one line, with the log to read."""


@dataclass(frozen=True)
class StageResult:
    name: str
    status: str  # "done" (ran now) | "skipped" (finished before, same fingerprint)
    fingerprint: str
    dir: str
    wall_s: float  # this invocation
    cpu_s: float
    outputs: Mapping[str, Any]


class Events(Protocol):
    """What the runner reports while it works (the CLI draws the progress display)."""

    def stage_start(self, stage: Stage, n_steps: int, fp: str) -> None: ...

    def step_start(self, stage: Stage, index: int, step: Step) -> None: ...

    def stage_end(self, result: StageResult) -> None: ...


def fingerprint(stage: str, settings: Mapping[str, Any], inputs: Mapping[str, str]) -> str:
    payload = json.dumps({"stage": stage, "settings": settings, "inputs": dict(inputs)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the sandbox workers, subprocesses)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def _done_steps(d: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    try:
        lines = (d / STEPS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a torn last line: that step is simply run again
        out[row["key"]] = row
    return out


@contextlib.contextmanager
def _captured(fh: Any) -> Iterator[None]:
    """Send everything written to stdout and stderr to ``fh``: at the file-descriptor level
    (so loggers and warnings bound to the real streams, C-level prints and child processes
    land there too) and, when the Python streams are not the real ones (under a test
    runner), at the Python level as well."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        with contextlib.ExitStack() as stack:
            for name, fd in (("stdout", 1), ("stderr", 2)):
                if _fd(getattr(sys, name)) != fd:
                    stack.enter_context(getattr(contextlib, f"redirect_{name}")(fh))
            yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        fh.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _fd(stream: Any) -> int:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return -1


def _run_command(step: Step, log: Path, isolate: bool) -> None:
    """Run one restrl-eval / restrl-train command, its output appended to ``log``."""
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"\n$ {step.display()}\n")
    if isolate:
        entry = ("from restrl_eval.cli.main import main; main()" if step.tool == "restrl-eval"
                 else "from restrl_train.cli import main; main()")
        with open(log, "a", encoding="utf-8") as fh:
            code = subprocess.call([sys.executable, "-c", entry, *step.argv], stdout=fh, stderr=subprocess.STDOUT)
        if code:
            tail = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
            raise StageError(f"{step.tool} {step.argv[0]} exited {code}: {tail[-1] if tail else ''}")
        return
    from restrl_eval.cli.main import COMMANDS as EVAL_COMMANDS
    from restrl_train.cli import COMMANDS as TRAIN_COMMANDS

    table = EVAL_COMMANDS if step.tool == "restrl-eval" else TRAIN_COMMANDS
    module, attr = table[step.argv[0]].split(":")
    command = getattr(importlib.import_module(module), attr)
    root = logging.getLogger()
    handlers = list(root.handlers)
    error = None
    with open(log, "a", encoding="utf-8") as fh, _captured(fh):
        try:
            command.main(list(step.argv[1:]), prog_name=f"{step.tool} {step.argv[0]}", standalone_mode=False)
        except SystemExit as exc:
            if exc.code not in (0, None):
                error = f"exited {exc.code}"
        except Exception as exc:  # a click error or a crash: the command's own one-line message
            import click

            error = exc.format_message() if isinstance(exc, click.ClickException) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, click.ClickException):
                traceback.print_exc(file=fh)
            print(f"error: {error}", file=fh)
        finally:
            for h in root.handlers[:]:  # handlers a command added point at this (closing) log file
                if h not in handlers:
                    root.removeHandler(h)
    if error:
        raise StageError(f"{step.tool} {step.argv[0]}: {error.splitlines()[0] if error else ''}")


def _run_stage(stage: Stage, ctx: StageContext, record: dict[str, Any], events: Events | None,
               isolate: bool) -> dict[str, Any]:
    """Every unfinished step of the stage; the outputs it hands on."""
    done = _done_steps(ctx.dir)
    record["commands"] = []
    outputs: dict[str, Any] = {}
    log = ctx.dir / "log.txt"
    for i, step in enumerate(stage.steps(ctx)):  # lazily: a step may depend on the files of the one before
        record["commands"].append(step.display())
        _write_json(ctx.dir / RECORD, record)
        if step.key in done:
            outputs.update(done[step.key].get("outputs") or {})
            continue
        if events:
            events.step_start(stage, i, step)
        t0, c0 = time.perf_counter(), cpu_seconds()
        got: dict[str, Any] = {}
        if step.func is not None:
            got = step.func() or {}
        else:
            _run_command(step, log, isolate)
        outputs.update(got)
        row = {"key": step.key, "wall_s": round(time.perf_counter() - t0, 2),
               "cpu_s": round(cpu_seconds() - c0, 2), "outputs": got}
        with open(ctx.dir / STEPS, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    return {**stage.outputs(ctx), **outputs}


def stage_records(out: Path) -> dict[str, dict[str, Any]]:
    """The current record of every stage of the pipeline in ``out`` (what ``pipeline.json`` points at)."""
    index = (_read_json(out / "pipeline.json") or {}).get("stages") or {}
    records = {}
    for name in (s.name for s in STAGES if s.name in index):  # in pipeline order
        rec = _read_json(Path(index[name]["dir"]) / RECORD)
        if rec is not None:
            records[name] = rec
    return records


def run_pipeline(cfg: PipelineConfig, out: Path, *, until: str | None = None, force: Iterable[str] = (),
                 events: Events | None = None) -> list[StageResult]:
    """Run (or skip) every stage up to ``until``; ``force``: stages whose directory is removed first."""
    names = [s.name for s in STAGES]
    last = names.index(until) if until else len(names) - 1
    force = set(force)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "config.json", dataclasses.asdict(cfg))
    index = _read_json(out / "pipeline.json") or {}
    index.update(name=cfg.name, out=str(out))
    index.setdefault("stages", {})
    fps: dict[str, str] = {}
    outputs: dict[str, dict[str, Any]] = {}
    records: dict[str, dict[str, Any]] = {}
    results = []
    for stage in STAGES[: last + 1]:
        settings = stage.settings(cfg)
        fp = fingerprint(stage.name, settings, {d: fps[d] for d in stage.deps})
        d = out / stage.name / fp
        if stage.name in force and d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True, exist_ok=True)
        record = _read_json(d / RECORD) or {}
        ctx = StageContext(cfg, d, {k: outputs[k] for k in stage.deps}, records)
        if events:
            events.stage_start(stage, len(list(stage.steps(ctx))) if record.get("status") != "done" else 0, fp)
        if record.get("status") == "done" and record.get("fingerprint") == fp:
            result = StageResult(stage.name, "skipped", fp, str(d), 0.0, 0.0, record.get("outputs") or {})
        else:
            result = _execute(stage, ctx, fp, settings, {k: fps[k] for k in stage.deps}, record,
                              cfg.decoding.isolate, events)
            record = _read_json(d / RECORD) or {}
        fps[stage.name], outputs[stage.name], records[stage.name] = fp, dict(result.outputs), record
        index["stages"][stage.name] = {"fingerprint": fp, "dir": str(d), "status": record.get("status")}
        _write_json(out / "pipeline.json", index)
        results.append(result)
        if events:
            events.stage_end(result)
    return results


def _execute(stage: Stage, ctx: StageContext, fp: str, settings: Mapping[str, Any], inputs: Mapping[str, str],
             record: dict[str, Any], isolate: bool, events: Events | None) -> StageResult:
    attempts: list[dict[str, Any]] = list(record.get("attempts") or [])
    record = {"name": stage.name, "what": stage.what, "fingerprint": fp, "settings": settings, "inputs": inputs,
              "status": "running", "attempts": attempts}
    attempt: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "status": "running"}
    attempts.append(attempt)
    t0, c0 = time.perf_counter(), cpu_seconds()

    def close(status: str) -> tuple[float, float]:
        wall, cpu = round(time.perf_counter() - t0, 2), round(cpu_seconds() - c0, 2)
        attempt.update(status=status, wall_s=wall, cpu_s=cpu)
        record.update(status=status, wall_s=round(sum(a.get("wall_s", 0) for a in attempts), 2),
                      cpu_s=round(sum(a.get("cpu_s", 0) for a in attempts), 2))
        _write_json(ctx.dir / RECORD, record)
        return wall, cpu

    try:
        outs = _run_stage(stage, ctx, record, events, isolate)
    except BaseException as exc:
        close("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
        if isinstance(exc, StageError):
            raise StageError(f"stage {stage.name}: {exc} (log: {ctx.dir / 'log.txt'})") from None
        raise
    record["outputs"] = outs
    wall, cpu = close("done")
    return StageResult(stage.name, "done", fp, str(ctx.dir), wall, cpu, outs)
