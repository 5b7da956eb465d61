"""The same execution reward and dataset for Ray-based RL stacks (verl, OpenRLHF).

Why thin: verl and OpenRLHF each pin their own transformers/vLLM/DeepSpeed, so they run
in their own environment with restrl installed beside them; all they need is a reward
function with their signature around ``exec_score``'s judge and the ReST-GRPO records in
their data layout. ReST's sigma0 filter and prefixes stay offline (in the exported data);
verl's ``filter_groups`` and OpenRLHF's ``dynamic_filtering`` are online zero-std /
mean-outside-(0,1) filters, i.e. the DAPO baseline, not ReST.

verl:      reward.custom_reward_function.path=<this file> name=compute_score
           data: ``to_verl_parquet`` (prompt = chat list; extra_info carries partial_state)
OpenRLHF:  --reward.remote_url <this file>  (defines reward_func)
           data: ``to_openrlhf_jsonl`` (--data.input_key input --data.label_key label)
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from restrl_eval.backends.prompting import CODE_FENCE
from restrl_train.grpo.reward import TASKS_DOMAIN, Item, Judge, _default_judge, program_text

__all__ = ["compute_score", "reward_func", "to_verl_parquet", "to_openrlhf_jsonl", "DATA_SOURCE_PREFIX"]

DATA_SOURCE_PREFIX = "restrl/"


def _item(partial_state: str, response: str, info: Mapping[str, Any], fallback_domain: str) -> Item:
    text, _, _ = program_text(partial_state, response)
    domain = str(info.get("bench") or fallback_domain)
    return Item(domain, str(info.get("task_id", "task")), text, info.get("tests"))


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
                  judge: Judge | None = None, **_: Any) -> float:
    """verl's reward signature. ``solution_str`` is the response only, so the partial
    state comes from ``extra_info``; ``ground_truth`` is the tests' JSON (tasks domain)."""
    info = dict(extra_info or {})
    info.setdefault("tests", ground_truth)
    domain = data_source[len(DATA_SOURCE_PREFIX):] if data_source.startswith(DATA_SOURCE_PREFIX) else TASKS_DOMAIN
    item = _item(str(info.get("partial_state", "")), solution_str, info, domain)
    return (judge or _default_judge()).rewards([item])[0]


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[str], judge: Judge | None = None,
                **_: Any) -> dict[str, Any]:
    """OpenRLHF's remote reward signature: ``queries`` = prompt + response; each label is
    the JSON ``{partial_state, tests, task_id, bench}``. One executor round for the batch."""
    import torch

    items = []
    for q, p, label in zip(queries, prompts, labels):
        info = json.loads(label)
        items.append(_item(str(info.get("partial_state", "")), q[len(p):] if q.startswith(p) else q, info,
                           TASKS_DOMAIN))
    rewards = torch.tensor((judge or _default_judge()).rewards(items), dtype=torch.float32)
    return {"rewards": rewards, "scores": rewards, "extra_logs": {"exec_reward": rewards}}


def _rows(dataset: str | Path | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if isinstance(dataset, (str, Path)):
        return [json.loads(x) for x in Path(dataset).read_text().splitlines() if x.strip()]
    return list(dataset)


def to_verl_parquet(dataset: str | Path | Sequence[Mapping[str, Any]], out: str | Path) -> Path:
    """verl's RL parquet: ``data_source, prompt (chat list), ability, reward_model, extra_info``.
    A prefix record's assistant turn must start with ``extra_info.prefill``; verl renders
    the user turn only, so such rows need a custom dataset class (``data.custom_cls``)."""
    from datasets import Dataset

    rows = []
    for r in _rows(dataset):
        rows.append({
            "data_source": DATA_SOURCE_PREFIX + str(r["bench"]),
            "prompt": [{"role": "user", "content": r.get("problem") or r["prompt"]}],
            "ability": "code",
            "reward_model": {"style": "rule", "ground_truth": r["tests"]},
            "extra_info": {"task_id": r["task_id"], "bench": r["bench"], "partial_state": r["partial_state"],
                           "prefix_lines": int(r["prefix_lines"]), "prefill": CODE_FENCE + r["partial_state"],
                           "raw_prompt": r["prompt"], "tests": r["tests"]},
        })
    path = Path(out)
    Dataset.from_list(rows).to_parquet(str(path))
    return path


def to_openrlhf_jsonl(dataset: str | Path | Sequence[Mapping[str, Any]], out: str | Path) -> Path:
    """OpenRLHF prompt JSONL: ``input`` = the rendered prompt (use it without
    ``--data.apply_chat_template``), ``label`` = JSON for ``reward_func``."""
    path = Path(out)
    with path.open("w", encoding="utf-8") as f:
        for r in _rows(dataset):
            label = {k: r[k] for k in ("partial_state", "tests", "task_id", "bench")}
            f.write(json.dumps({"input": r["prompt"], "label": json.dumps(label)}) + "\n")
    return path
