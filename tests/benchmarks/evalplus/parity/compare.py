"""Compare restrl's verdicts with evalplus' on the same samples; used by the slow test
and runnable by hand: ``python -m tests.benchmarks.evalplus.parity.compare [--workers N] [--out DIR]``."""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restrl_eval.testing.evalplus_parity import corpus, reference


@dataclass
class Parity:
    samples: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)  # unexpected
    stricter: list[dict[str, Any]] = field(default_factory=list)  # documented: evalplus passes, restrl fails
    seconds: dict[str, float] = field(default_factory=dict)


def compare_results(samples: list[dict], ours: dict, theirs: dict, parity: Parity) -> None:
    """Both eval_results dicts list each task's samples in file order."""
    seen: dict[str, int] = {}
    for s in samples:
        k = seen.get(s["task_id"], 0)
        seen[s["task_id"]] = k + 1
        a, b = ours["eval"][s["task_id"]][k], theirs["eval"][s["task_id"]][k]
        parity.samples += 1
        ours_st, theirs_st = (a["base_status"], a["plus_status"]), (b["base_status"], b["plus_status"])
        if ours_st == theirs_st:
            continue
        rec = {"task_id": s["task_id"], "variant": s["variant"], "restrl": ours_st, "evalplus": theirs_st}
        (parity.stricter if s["stricter"] else parity.differences).append(rec)


def run(workers: int, out: Path, datasets: tuple[str, ...] = ("humaneval+", "mbpp+")) -> Parity:
    from restrl_eval.run.evaluate import evaluate

    out.mkdir(parents=True, exist_ok=True)
    parity = Parity()
    for ds, samples in corpus.build(datasets).items():
        family = ds.rstrip("+")
        path = out / f"corpus-{family}.jsonl"
        path.write_text("".join(json.dumps(s) + "\n" for s in samples))
        t0 = time.time()
        theirs = reference.run_evalplus(family, path, workers, out)
        parity.seconds[f"evalplus {family}"] = time.time() - t0
        t0 = time.time()
        result = evaluate(ds, path, out_dir=out / f"restrl-{family}", workers=workers)
        parity.seconds[f"restrl {family}"] = time.time() - t0
        ours = json.loads((result.out_dir / "eval_results.json").read_text())
        compare_results(samples, ours, theirs, parity)
    return parity


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("parity-out"))
    ap.add_argument("--datasets", nargs="*", default=["humaneval+", "mbpp+"])
    args = ap.parse_args()
    p = run(args.workers, args.out, tuple(args.datasets))
    print(json.dumps({"samples": p.samples, "differences": len(p.differences), "stricter": len(p.stricter),
                      "seconds": p.seconds}, indent=1))
    for d in p.differences:
        print("DIFF", d)
    for d in p.stricter:
        print("STRICTER", d)


if __name__ == "__main__":
    main()
