"""The restrl lm-eval tasks' documents: restrl's shipped data, offline, without tests.

Why documents without tests: the model sees the whole document (``Instance.doc``), and a
decoding strategy must never read a task's hidden tests. A document carries only what a
model may see (the task id, the published problem, the entry point, the ready-made
prompts); the judge (``judge.process_results``) fetches the tests from restrl's
benchmark by task id. ``PUBLIC_FIELDS`` lists every field a document may carry.
"""
from __future__ import annotations

from typing import Any

__all__ = ["PUBLIC_FIELDS", "build_docs", "load_restrl_dataset", "public_task"]

PUBLIC_FIELDS = ("task_id", "benchmark", "problem", "entry_point", "instruction", "prompt_chat",
                 "prompt_completion", "complete_prompt")


def build_docs(benchmark: str, **options: Any) -> list[dict[str, Any]]:
    """One document per task of restrl benchmark ``benchmark`` (its canonical order)."""
    from restrl_eval.benchmarks import get_benchmark

    bench = get_benchmark(benchmark, **options)
    docs = []
    for task in bench.tasks():
        data = task.data or {}
        docs.append({
            "task_id": task.task_id,
            "benchmark": benchmark,
            "problem": task.prompt,
            "entry_point": task.entry_point or "",
            "instruction": task.instruction,
            "prompt_chat": bench.prompt(task, "chat"),
            "prompt_completion": bench.prompt(task, "completion"),
            "complete_prompt": str(data.get("complete_prompt", "")),
        })
    return docs


def load_restrl_dataset(benchmark: str = "", data_dir: str | None = None, **_metadata: Any) -> Any:
    """lm-eval ``custom_dataset`` hook: ``{"test": Dataset}`` of ``build_docs``. lm-eval
    passes the task's metadata as keywords too; only ``benchmark``/``data_dir`` matter."""
    import datasets

    if not benchmark:
        raise ValueError("restrl lm-eval task: dataset_kwargs.benchmark is missing")
    options = {"data_dir": data_dir} if data_dir else {}
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(build_docs(benchmark, **options))})


def public_task(doc: Any, task_id: str, prompt: str) -> Any:
    """A restrl ``Task`` holding only the document's public fields (no tests): what the
    benchmark's code extraction and a scorer's ``{problem}`` may use."""
    from restrl_eval.benchmarks import Task

    doc = doc if isinstance(doc, dict) else {}
    data = {"complete_prompt": doc["complete_prompt"]} if doc.get("complete_prompt") else {}
    return Task(task_id=task_id, prompt=str(doc.get("problem", prompt)), entry_point=doc.get("entry_point") or None,
                instruction=str(doc.get("instruction", "")), data=data)
