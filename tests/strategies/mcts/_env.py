"""A small real environment for the MCTS tests: a bit-pattern task set and a tiny trained LM.

Why this environment: the claim under test is that MCTS with execution rewards finds a
passing program for more tasks than independent sampling at equal budget. That is only
expected where the reward of a partial attempt says something about its prefix, i.e. when
programs are built line by line and tests give partial credit (as APPS tests do). Here:

- task ``t`` hides a 5-bit pattern; a program sets ``a``..``e``; one test per variable, so
  the reward (fraction of tests passed) is the fraction of lines right;
- the policy is a real 2-layer transformer trained for a few seconds on programs whose
  bits are 1 with probability ``q`` (default 0.4) whatever the task, so it solves task
  ``t`` by chance with probability ``q^m (1-q)^(5-m)`` per sample (``m`` = ones in the
  pattern) and every task is solvable;
- every program runs in the real sandboxed executor; the driver only reports raw values and
  the harness compares them (nothing inside the sandbox judges).

A pure simulation of this environment (same search code, an ideal sampler with q = 0.4 at
every slot, 320 tasks) gives, at budget 30: independent sampling ~0.58 of tasks solved, MCTS
(c = 0.2) ~0.82, MCTS with c = 5 ~0.61. With the trained model (whose bits are not exactly
Bernoulli(0.4) and which repeats itself more), ``tests/strategies/mcts/test_exec.py`` measures 14/32,
29/32 and, for c = 50, 21/32: part of a tree's gain is diversity (samples split evenly
between first lines), the rest comes from the values.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from restrl_eval.benchmarks.base import Benchmark, Task, Verdict
from restrl_eval.execution import Job, Limits

NAMES = "abcde"
PATTERNS = list(itertools.product((0, 1), repeat=len(NAMES)))

_DRIVER = """
ns = restrl.run_program()
vals = []
for name in restrl.payload["names"]:
    v = ns.get(name)
    vals.append(v if isinstance(v, (int, float, str, bool)) or v is None else repr(v))
restrl.emit(kind="output", values=vals)
"""


class BitsBench(Benchmark):
    """Task ``Bits/i`` hides ``PATTERNS[i]``; reward = fraction of variables set right."""

    name = "bits-test"

    def __init__(self, n: int | None = None, **options: Any) -> None:
        pats = PATTERNS if n is None else PATTERNS[:n]
        self._tasks = [Task(task_id=f"Bits/{i}", prompt=f"Task {i}.\n", instruction=f"Task {i}.\n",
                            data={"pattern": list(p)}) for i, p in enumerate(pats)]

    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def prompt(self, task: Task, style: str = "completion") -> str:
        return task.prompt

    def extract_code(self, task: Task, text: str) -> str:
        return text.split("```")[0]

    def check(self, task: Task, programs: Sequence[str], executor: Any) -> list[Verdict]:
        jobs = [Job(program=p, driver=_DRIVER, payload={"names": list(NAMES)},
                    limits=Limits(timeout_s=5.0), tag=task.task_id) for p in programs]
        return [self._judge(task, r) for r in executor.run_many(jobs)]

    @staticmethod
    def _judge(task: Task, result: Any) -> Verdict:
        want = task.data["pattern"]
        got = next((m["values"] for m in result.messages if m.get("kind") == "output"), None)
        ok = [got is not None and type(g) is int and g == w for g, w in zip(got or [None] * len(want), want)]
        passed = bool(result.finished and all(ok))
        status = "pass" if passed else ("fail" if result.finished else str(result.status.value))
        return Verdict(task.task_id, passed, status, reward=sum(ok) / len(ok),
                       tests_passed=sum(ok), tests_total=len(ok))


def bits_program(rng: random.Random, q: float) -> str:
    return "".join(f"{n}={int(rng.random() < q)}\n" for n in NAMES)


def build_bits_lm(out_dir: str | Path, q: float = 0.4, steps: int = 150, seed: int = 0) -> Path:
    """Train a tiny Llama on ``Task t.\\n`` + a program with Bernoulli(q) bits + EOS."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    texts = [f"Task {rng.randrange(len(PATTERNS))}.\n" + bits_program(rng, q) for _ in range(4096)]
    chars = sorted(set("".join(texts)) | set("`python"))
    vocab = {"<pad>": 0, "<eos>": 1, **{c: i + 2 for i, c in enumerate(chars)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<pad>",
                                   clean_up_tokenization_spaces=False)
    fast.save_pretrained(str(out))
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         eos_token_id=1, pad_token_id=0, bos_token_id=None, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    ids = [fast(t)["input_ids"] + [1] for t in texts]
    width = max(map(len, ids))
    data = torch.tensor([x + [0] * (width - len(x)) for x in ids])
    labels = data.clone()
    for row, x in enumerate(ids):
        labels[row, len(x):] = -100
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(ids), (32,), generator=gen)
        loss = model(input_ids=data[idx], labels=labels[idx]).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    model.generation_config = GenerationConfig(eos_token_id=1, pad_token_id=0)
    model.save_pretrained(str(out))
    return out
