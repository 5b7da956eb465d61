"""The hand-off of restrl's cost record from the lm-eval model to the task's judge.

Why a ledger: lm-eval's ``generate_until`` may return only strings, and its per-sample
log (``--log_samples``) records only what the task's ``process_results`` returns. The
``restrl`` model books each answer's cost here under (task id, answer), and the restrl
tasks' ``process_results`` takes it back, so the samples file carries the cost of every
answer. Both run in lm-eval's one process; repeats of one answer are served in order.
"""
from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["record", "take"]

_LOCK = threading.Lock()
_LEDGER: dict[tuple[str, str], collections.deque[dict[str, Any]]] = collections.defaultdict(collections.deque)


def record(task_id: str, answer: str, cost: Mapping[str, Any]) -> None:
    with _LOCK:
        _LEDGER[(task_id, answer)].append(dict(cost))


def take(task_id: str, answer: str) -> dict[str, Any] | None:
    """The oldest cost booked for this answer, or None (another model produced it)."""
    with _LOCK:
        queue = _LEDGER.get((task_id, answer))
        if not queue:
            return None
        cost = queue.popleft()
        if not queue:
            del _LEDGER[(task_id, answer)]
        return cost
