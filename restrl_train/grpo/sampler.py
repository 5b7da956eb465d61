"""Sample n programs per problem with restrl's policy backends and judge them (resumable).

Why a stage of its own: ReST-GRPO's filter needs each problem's reward spread under the
CURRENT policy (n = 5 at T = 0.7 in the paper), so every round re-samples from the last
checkpoint. Groups are appended to a JSONL file as they are judged; a rerun skips the
problems already there, so a crash costs at most one chunk.
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from restrl_train.grpo.builder import SampleGroup
from restrl_train.grpo.reward import TASKS_DOMAIN, Item, Judge

__all__ = ["Problem", "SampleSettings", "load_problems", "read_groups", "sample_groups"]


@dataclass(frozen=True)
class Problem:
    task_id: str
    domain: str
    problem: str
    tests: str  # JSON list of test snippets (tasks domain) or ""
    init_state: str = ""


@dataclass(frozen=True)
class SampleSettings:
    n: int = 5
    temperature: float = 0.7
    max_tokens: int = 1024
    top_p: float = 1.0
    seed: int = 0
    chunk: int = 8  # problems per policy call (and per judge call)
    chat: bool = True  # chat template + code-fence prefill; False: the prompt is continued as is
    stop: tuple[str, ...] = ("```",)


def load_problems(tasks_file: str | None = None, bench: str | None = None, limit: int | None = None,
                  bench_options: dict[str, Any] | None = None, style: str = "chat") -> list[Problem]:
    """Problems from a tasks JSONL (domain ``tasks``) or a registered benchmark (its chat prompt)."""
    if tasks_file:
        from restrl_train.grpo.tasks import load_task_file

        return [Problem(t.task_id, TASKS_DOMAIN, t.prompt, json.dumps(t.data["tests"]), t.data.get("init_state", ""))
                for t in load_task_file(tasks_file)[:limit]]
    if not bench:
        raise ValueError("give a tasks file or a benchmark")
    from restrl_eval.benchmarks import get_benchmark

    b = get_benchmark(bench, **(bench_options or {}))
    return [Problem(t.task_id, bench, b.prompt(t, style), "") for t in b.tasks()[:limit]]


def read_groups(path: str | Path) -> list[SampleGroup]:
    """Groups written so far; a torn last line (a crash mid-write) is ignored."""
    p = Path(path)
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue
        out.append(SampleGroup(d["task_id"], d["domain"], d["problem"], d["tests"], tuple(d["completions"]),
                               tuple(float(r) for r in d["rewards"]), d.get("init_state", "")))
    return out


def _seed(seed: int, task_id: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(task_id.encode())) % (2**31)


def sample_groups(policy: Any, judge: Judge, problems: Sequence[Problem], out: str | Path, settings: SampleSettings,
                  progress: Callable[[int, int], None] | None = None) -> list[SampleGroup]:
    """Sample and judge every problem not yet in ``out``; returns all groups in ``out``."""
    from restrl_eval.backends import GenerationRequest

    path = Path(out)
    done = {g.task_id for g in read_groups(path)}
    todo = [p for p in problems if p.task_id not in done]
    if path.exists():  # drop a torn last line before appending
        text = path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            path.write_text(text[: text.rfind("\n") + 1], encoding="utf-8")
    for start in range(0, len(todo), settings.chunk):
        chunk = todo[start:start + settings.chunk]
        reqs = [GenerationRequest(prompt=p.problem, prefix=p.init_state, chat=settings.chat, n=settings.n,
                                  temperature=settings.temperature, top_p=settings.top_p,
                                  max_tokens=settings.max_tokens, stop=settings.stop,
                                  seed=_seed(settings.seed, p.task_id)) for p in chunk]
        gens = policy.generate(reqs)
        items = [Item(p.domain, p.task_id, p.init_state + g.text, p.tests or None) for p, gs in zip(chunk, gens)
                 for g in gs]
        rewards = judge.rewards(items)
        with path.open("a", encoding="utf-8") as f:
            at = 0
            for p, gs in zip(chunk, gens):
                g = SampleGroup(p.task_id, p.domain, p.problem, p.tests, tuple(x.text for x in gs),
                                tuple(rewards[at:at + len(gs)]), p.init_state)
                at += len(gs)
                f.write(json.dumps(asdict(g)) + "\n")
        if progress is not None:
            progress(len(done) + start + len(chunk), len(problems))
    return read_groups(path)
