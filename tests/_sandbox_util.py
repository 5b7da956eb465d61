"""Shared helpers for executor tests: build the executor (optionally with layers removed)
and list the processes that belong to its sandboxes."""
from __future__ import annotations

import os
from pathlib import Path

from restrl_eval.execution import Executor

REPO = Path(__file__).resolve().parent.parent


def disabled(layer: str) -> bool:
    """``RESTRL_TEST_DISABLE=seccomp,cgroup,bwrap`` removes layers to show the tests fail."""
    return layer in os.environ.get("RESTRL_TEST_DISABLE", "").split(",")


def make_executor(workers: int = 2, **kw) -> Executor:
    return Executor(
        workers=workers,
        sandbox="process" if disabled("bwrap") else kw.pop("sandbox", "auto"),
        seccomp=not disabled("seccomp"),
        pids_cgroup=not disabled("cgroup"),
        **kw,
    )


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def sandbox_pids(ex: Executor) -> set[int]:
    """Every live process descending from the executor's workers (their zygotes, bwrap
    helpers, and anything a program left behind). Zombies awaiting reaping excluded."""
    kids = _children()
    out: set[int] = set()
    stack = [w.proc.pid for w in list(ex._all)]
    while stack:
        pid = stack.pop()
        for c in kids.get(pid, []):
            try:
                state = Path(f"/proc/{c}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                out.add(c)
            stack.append(c)
    return out
