"""A toy training split and a tiny policy that half-solves it (test helpers, CPU, seconds).

Why: a random tiny LM never writes a compiling program, so every group has zero reward
std and GRPO has nothing to learn from. Fitting the tiny LM for a few seconds on a mix of
right and wrong answers per problem gives a policy whose T=0.7 samples pass some of the
time: groups with spread, which is what ReST-GRPO selects and GRPO learns from.
"""
from __future__ import annotations

import json
from pathlib import Path

# (task_id, prompt, tests, right answers, wrong answers); answers are the code after the fence
TOY = [
    ("toy/add", "Write add(a, b) returning a + b.",
     ["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0", "assert add(2, 5) == 7"],
     ["def add(a, b):\n    return a + b\n"], ["def add(a, b):\n    return a - b\n"]),
    ("toy/neg", "Write neg(x) returning -x.",
     ["assert neg(1) == -1", "assert neg(0) == 0", "assert neg(-3) == 3", "assert neg(5) == -5"],
     ["def neg(x):\n    return -x\n"], ["def neg(x):\n    return x\n"]),
    ("toy/mul", "Write mul(a, b) returning a * b.",
     ["assert mul(2, 3) == 6", "assert mul(0, 4) == 0", "assert mul(1, 1) == 1", "assert mul(3, 3) == 9"],
     ["def mul(a, b):\n    return a * b\n"], ["def mul(a, b):\n    return a + b\n"]),
    ("toy/sq", "Write sq(x) returning x squared.",
     ["assert sq(2) == 4", "assert sq(0) == 0", "assert sq(-3) == 9", "assert sq(1) == 1"],
     ["def sq(x):\n    return x * x\n"], ["def sq(x):\n    return x + x\n"]),
]


def write_toy_tasks(path: str | Path) -> Path:
    p = Path(path)
    p.write_text("".join(json.dumps({"task_id": t, "prompt": q, "tests": tests, "entry_point": t.split("/")[1]}) + "\n"
                         for t, q, tests, _, _ in TOY))
    return p


def fit_toy_policy(model_dir: str | Path, out_dir: str | Path, steps: int = 120, lr: float = 3e-3,
                   wrong_share: int = 1, seed: int = 0) -> Path:
    """Fit the tiny LM on chat-rendered prompts followed by right and wrong answers
    (``wrong_share`` wrong copies per right one) and save it to ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from restrl_eval.backends.base import GenerationRequest
    from restrl_eval.backends.prompting import render_prompt

    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    texts = []
    for _, q, _, right, wrong in TOY:
        head = render_prompt(tok, GenerationRequest(prompt=q))[0]
        for ans in right + wrong * wrong_share:
            texts.append(head + ans + "```" + tok.eos_token)
    tok.padding_side = "right"
    batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = model(**batch, labels=labels).loss
        loss.backward()
        opt.step()
    out = Path(out_dir)
    model.save_pretrained(str(out))
    tok.padding_side = "left"
    tok.save_pretrained(str(out))
    return out


def mean_sampled_reward(model_dir: str | Path, tasks_file: str | Path, judge, n: int = 32, seed: int = 123,
                        max_tokens: int = 24) -> float:
    """Mean execution reward of ``n`` samples per toy problem at T = 0.7 (fixed seeds)."""
    import tempfile

    from restrl_eval.backends import load_policy
    from restrl_train.grpo.sampler import SampleSettings, load_problems, sample_groups

    policy = load_policy(str(model_dir))
    with tempfile.TemporaryDirectory() as d:
        groups = sample_groups(policy, judge, load_problems(str(tasks_file)), Path(d) / "s.jsonl",
                               SampleSettings(n=n, temperature=0.7, max_tokens=max_tokens, seed=seed, chunk=8))
    rewards = [r for g in groups for r in g.rewards]
    return sum(rewards) / len(rewards)
