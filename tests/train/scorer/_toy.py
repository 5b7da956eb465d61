"""Hand-made judged programs with a learnable within-problem signal, for trainer tests."""
from __future__ import annotations

import json
import random
from pathlib import Path


def write_outcomes(path: Path, problems: int = 16, per: int = 6, seed: int = 0) -> Path:
    """Outcome records of two problem types: "Return x plus t." (programs that return
    pass, programs that raise fail) and "Raise ValueError." (the reverse). Every problem
    has both outcomes, so within-problem AUC is defined on any held-out problem, and a
    scorer must read the problem to rank: one that looks at the code alone is at chance."""
    rng = random.Random(seed)
    rows = []
    for t in range(problems):
        name = f"f{t}"
        wants_return = t % 2 == 0
        doc = f"Return x plus {t}." if wants_return else "Raise ValueError."
        prob = f"def {name}(x):\n    \"\"\"{doc}\"\"\"\n"
        for i in range(per):
            good = i % 2 == 0 if i < 2 else rng.random() < 0.5
            returns = good == wants_return
            body = f"    return x + {t}" if returns else f"    raise ValueError({rng.randint(0, 9)})"
            rows.append({"task_id": f"Toy/{t}", "kind": "outcome", "problem": prob,
                         "code": f"def {name}(x):\n{body}\n", "reward": 1.0 if good else 0.0, "passed": good})
        rows.append({"task_id": f"Toy/{t}", "kind": "task"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_values(path: Path, problems: int = 8) -> Path:
    """collect-values-shaped records (node + program) with a sidecar naming a training bench."""
    rows = []
    for t in range(problems):
        prob = f"Write f{t}(x) returning x plus {t}."
        rows.append({"task_id": f"Toy/{t}", "kind": "node", "problem": prob, "state": "", "value": 0.5,
                     "visits": 4, "depth": 0})
        rows.append({"task_id": f"Toy/{t}", "kind": "node", "problem": prob, "state": f"def f{t}(x):",
                     "value": 0.5, "visits": 4, "depth": 1})
        for good in (True, False, True, False):
            body = f"    return x + {t}" if good else "    raise ValueError"
            rows.append({"task_id": f"Toy/{t}", "kind": "program", "problem": prob,
                         "state": f"def f{t}(x):\n{body}", "value": float(good), "visits": 1, "depth": 2})
        rows.append({"task_id": f"Toy/{t}", "kind": "task"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path.with_name(path.name + ".meta.json").write_text(json.dumps({"bench": "toy-train", "mcts": {"c": 0.2}}))
    return path
