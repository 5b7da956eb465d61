"""Run the BigCodeBench parity corpus through bigcodebench 0.2.5 and through restrl.

``python -m tests.benchmarks.bigcodebench.parity.run_parity [--out report.json] [--workers 2] [--limit N] [--corpus F]``

The reference is bigcodebench's own ``untrusted_check`` (what ``evaluate(execution="local")``
calls per sample, with its default ``calibrated`` solution, memory limits and
``gt_time_limit=20``), run from a process pool like ``evaluate`` does. Both harnesses use
the same TIMEOUT_LIMIT per sample: 60 s ("long") or 3 s ("short", endless-loop samples),
instead of 240 s, so the run fits in minutes; the timeout arithmetic is unchanged.
bigcodebench runs as the calling user (root here); restrl's sandbox runs as uid 65534.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus.jsonl"
LIMITS = {"long": 60.0, "short": 3.0}
CHEAT_PREFIX = "cheat_"


def load_corpus(limit: int | None = None, path: Path = CORPUS) -> list[dict]:
    """Parity items: ``task_id``, ``kind``, ``solution``, ``limit`` ("long" | "short")."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items[:limit] if limit else items


def _own_group() -> None:
    """Pool initializer: a process group per worker, so the reference's leftovers can be found."""
    os.setsid()


def _kill_leftovers() -> None:
    """bigcodebench's ``safe_environment`` starts a ``multiprocessing.Manager`` inside the
    sample's process; when that process is killed the manager server lives on as an orphan.
    Kill every process of this worker's group except the worker itself."""
    me, group = os.getpid(), os.getpgid(0)
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                if os.getpgid(int(entry)) == group:
                    os.kill(int(entry), 9)
            except OSError:
                pass


def _reference_one(args: tuple[str, str, str, float]) -> tuple[str, dict]:
    code, test, entry, timeout_limit = args
    import bigcodebench.eval as bcb_eval

    bcb_eval.TIMEOUT_LIMIT = timeout_limit
    try:
        status, details = bcb_eval.untrusted_check(code, test, entry, 30 * 1024, 30 * 1024, 10, 1, 20)
    finally:
        _kill_leftovers()
    return status, {k: str(v)[-300:] for k, v in dict(details).items()}


def run_reference(items: list[dict], rows: dict[str, dict], workers: int) -> list[tuple[str, dict]]:
    """bigcodebench 0.2.5 verdicts, one per item."""
    args = []
    for it in items:
        row = rows[it["task_id"]]
        code = row["code_prompt"] + "\n    pass\n" + it["solution"]  # evaluate(calibrated=True)
        args.append((code, row["test"], row["entry_point"], LIMITS[it["limit"]]))
    with cf.ProcessPoolExecutor(max_workers=workers, initializer=_own_group) as pool:
        return list(pool.map(_reference_one, args))


def run_restrl(items: list[dict], workers: int) -> list:
    """restrl verdicts (strict mode), one per item, through the real executor."""
    from restrl_eval.benchmarks import get_benchmark
    from restrl_eval.execution import Executor

    benches = {k: get_benchmark("bcb-complete", timeout_limit=v) for k, v in LIMITS.items()}
    out: list = [None] * len(items)
    with Executor(workers=workers, preload=benches["long"].preload) as ex:
        for key, bench in benches.items():
            bench.availability(ex)
            jobs, where = [], []
            for i, it in enumerate(items):
                if it["limit"] != key:
                    continue
                task = bench.task(it["task_id"])
                gone = bench.missing(task, ex)
                if gone:
                    from restrl_eval.benchmarks.bigcodebench.judge import skipped_verdict
                    out[i] = skipped_verdict(task.task_id, gone)
                    continue
                jobs.append(bench.job(task, it["solution"]))
                where.append(i)
            from restrl_eval.benchmarks.bigcodebench.judge import decide, expected_tests
            for i, res in zip(where, ex.run_many(jobs)):
                task = bench.task(items[i]["task_id"])
                out[i] = decide(task.task_id, expected_tests(task.data["test"]), res, strict=bench.strict)
    return out


def compare(items: list[dict], ref: list[tuple[str, dict]], ours: list) -> dict:
    report = {"samples": len(items), "skipped": [], "same": 0, "status_same": 0, "differ": [], "cheats": [],
              "status_differ": []}
    for it, (r_status, r_details), v in zip(items, ref, ours):
        row = {"task_id": it["task_id"], "kind": it["kind"], "reference": r_status, "restrl": v.status,
               "ref_details": {k: d[-200:] for k, d in list(r_details.items())[:3]},
               "restrl_details": {k: str(d)[-300:] for k, d in v.details.items() if k in ("details", "tamper", "missing")}}
        if v.status == "skipped":
            report["skipped"].append(row)
            continue
        same = (r_status == "pass") == v.passed
        if it["kind"].startswith(CHEAT_PREFIX):
            report["cheats"].append(row)
            continue
        if same:
            report["same"] += 1
            report["status_same"] += r_status == v.status
            if r_status != v.status:
                report["status_differ"].append(row)
        else:
            report["differ"].append(row)
    report["compared"] = report["same"] + len(report["differ"])
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--tasks", default="", help="comma-separated task ids: only their samples")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="items JSONL (default: the parity corpus)")
    args = ap.parse_args(argv)
    from restrl_eval.benchmarks.data import load_rows

    rows = {r["task_id"]: r for r in load_rows("bigcodebench")}
    items = load_corpus(args.limit, args.corpus)
    if args.tasks:
        wanted = set(args.tasks.split(","))
        items = [it for it in items if it["task_id"] in wanted]
    t0 = time.time()
    ours = run_restrl(items, args.workers)
    t1 = time.time()
    ref = run_reference(items, rows, args.workers)
    t2 = time.time()
    rep = compare(items, ref, ours)
    rep["seconds"] = {"restrl": round(t1 - t0, 1), "bigcodebench": round(t2 - t1, 1)}
    rep["uid"] = os.geteuid()
    text = json.dumps(rep, indent=1)
    if args.out:
        args.out.write_text(text)
    print(f"samples {rep['samples']}, compared {rep['compared']}, same verdict {rep['same']}, "
          f"same status name {rep['status_same']}, differ {len(rep['differ'])}, "
          f"skipped {len(rep['skipped'])} ({len({s['task_id'] for s in rep['skipped']})} tasks), "
          f"cheat samples {len(rep['cheats'])}; seconds {rep['seconds']}")
    for d in rep["differ"]:
        print("DIFF", d["task_id"], d["kind"], "reference", d["reference"], "restrl", d["restrl"])
    for d in rep["status_differ"]:
        print("STATUS", d["task_id"], d["kind"], "reference", d["reference"], "restrl", d["restrl"])
    for c in rep["cheats"]:
        print("CHEAT", c["task_id"], c["kind"], "reference", c["reference"], "restrl", c["restrl"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
