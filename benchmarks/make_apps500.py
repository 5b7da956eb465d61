"""Make restrl's pinned APPS-500 selection: ``benchmarks/apps500.json`` and its package copy.

Why our own selection: the ReST-RL paper evaluates on 500 APPS test problems, but their
id list is unpublished (it sits inside the authors' ``datafiles.zip``, which nobody can
fetch), so restrl pins a documented selection of its own. It is NOT the paper's subset:
scores on it are comparable with other runs on restrl's apps500, not with the paper.

The rule (no data needed, reproducible in any language):
  * the APPS test split (codeparrot/apps ``test``, problem ids 0-4999), stratified by
    difficulty in the split's proportions: 300 of the 3000 interview problems (ids
    0-2999), 100 of the 1000 competition problems (3000-3999) and 100 of the 1000
    introductory problems (4000-4999);
  * within each stratum, the ids with the smallest
    ``sha256(f"{SEED}:{id}")`` (hex digest, compared as text), where
    ``SEED = "restrl-apps500-v1"``;
  * listed in ascending id order.

Run ``python benchmarks/make_apps500.py`` to rewrite both files, ``--check`` to verify
that the committed files are exactly what the rule produces (the test suite does this).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

SEED = "restrl-apps500-v1"
STRATA = (  # (difficulty, first id, last id, how many)
    ("interview", 0, 2999, 300),
    ("competition", 3000, 3999, 100),
    ("introductory", 4000, 4999, 100),
)
ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = (ROOT / "benchmarks" / "apps500.json", ROOT / "restrl_eval" / "data" / "apps500.json")


def rank(problem_id: int) -> str:
    return hashlib.sha256(f"{SEED}:{problem_id}".encode()).hexdigest()


def select() -> list[int]:
    ids: list[int] = []
    for _difficulty, first, last, count in STRATA:
        ids += sorted(range(first, last + 1), key=rank)[:count]
    return sorted(ids)


def document() -> str:
    ids = select()
    doc = {
        "name": "apps500",
        "description": ("restrl's own pinned selection of 500 APPS test-split problems. NOT the unpublished "
                        "500-problem subset of the ReST-RL paper: scores compare only with other runs on "
                        "this selection."),
        "split": "test",
        "rule": ("per stratum, the ids with the smallest sha256('<seed>:<id>') hex digest; "
                 "strata in the test split's proportions; ids in ascending order"),
        "seed": SEED,
        "strata": {d: {"ids": [a, b], "count": n} for d, a, b, n in STRATA},
        "generator": "benchmarks/make_apps500.py",
        "ids_sha256": hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest(),
        "ids": ids,
    }
    return json.dumps(doc, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="verify the committed files instead of writing them")
    args = ap.parse_args(argv)
    text = document()
    if args.check:
        stale = [str(p) for p in OUTPUTS if not p.is_file() or p.read_text(encoding="utf-8") != text]
        if stale:
            print("out of date: " + ", ".join(stale), file=sys.stderr)
            return 1
        print("apps500 files match the rule")
        return 0
    for p in OUTPUTS:
        p.write_text(text, encoding="utf-8")
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
