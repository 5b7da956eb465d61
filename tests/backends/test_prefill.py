"""``--prefill official|code|none``: the exact text a chat model reads for each setting (the
tiny LM with its ChatML template), the official reply openings per benchmark, and the
wrapper that gives any policy's chat requests their prefill."""
from __future__ import annotations

import pytest

import tests._run_bench  # noqa: F401  (registers arith-test)
from restrl_eval.backends import BackendError, GenerationRequest
from restrl_eval.backends.prompting import (
    CODE_FENCE,
    PREFILLS,
    first_fenced_block,
    official_prefill,
    prefiller,
    render_prompt,
    with_prefill,
)
from restrl_eval.benchmarks import get_benchmark

pytest.importorskip("transformers")

EVALPLUS_OPENING = ("Below is a Python script with a self-contained function that solves the problem and passes "
                    "corresponding tests:\n```python\n")


@pytest.fixture(scope="module")
def humaneval():
    bench = get_benchmark("humaneval+")
    return bench, bench.tasks()[:2]


def _head(tok, prompt: str) -> str:
    return tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)


def test_each_setting_renders_its_assistant_opening(tiny_policy, humaneval):
    bench, tasks = humaneval
    tok = tiny_policy.tokenizer
    prompt = bench.prompt(tasks[0], "chat")
    head = _head(tok, prompt)
    assert head.endswith("<|im_start|>assistant\n") and prompt in head
    code = render_prompt(tok, GenerationRequest(prompt))
    official = render_prompt(tok, GenerationRequest(prompt, prefill=official_prefill(bench, tasks[0])))
    none = render_prompt(tok, GenerationRequest(prompt, prefill=""))
    assert code == (head + "```python\n", False)
    assert official == (head + EVALPLUS_OPENING, False)
    assert none == (head, False)
    # an MCTS state follows the opening
    state = "def f():\n"
    assert render_prompt(tok, GenerationRequest(prompt, prefix=state, prefill=EVALPLUS_OPENING))[0] == \
        head + EVALPLUS_OPENING + state


def test_the_model_reads_what_each_setting_renders(tiny_policy, humaneval):
    """Through the wrapper and the real transformers backend: each row's prompt_tokens are
    the token count of the rendered text, so the prefill reached the model."""
    bench, tasks = humaneval
    tok = tiny_policy.tokenizer
    reqs = [GenerationRequest(bench.prompt(t, "chat"), max_tokens=3) for t in tasks]
    head = _head(tok, reqs[0].prompt)
    expected = {"code": head + CODE_FENCE, "official": head + EVALPLUS_OPENING, "none": head}
    for style in PREFILLS:
        policy = with_prefill(tiny_policy, bench, tasks, style)
        [[g], _] = policy.generate(reqs)
        assert g.prompt_tokens == len(tok(expected[style], add_special_tokens=False)["input_ids"]), style
    assert with_prefill(tiny_policy, bench, tasks, "code") is tiny_policy  # the default changes nothing


def test_official_openings_per_benchmark():
    he = get_benchmark("humaneval+")
    assert official_prefill(he, he.tasks()[0]) == EVALPLUS_OPENING
    bcb = get_benchmark("bcb-complete")
    assert official_prefill(bcb, bcb.tasks()[0]) == EVALPLUS_OPENING  # bigcodebench's, then the fence
    arith = get_benchmark("arith-test")
    assert official_prefill(arith, arith.tasks()[0]) is None
    with pytest.raises(BackendError, match="--prefill official: benchmark 'arith-test' defines no assistant reply"):
        prefiller(arith, arith.tasks(), "official")
    with pytest.raises(BackendError, match="--prefill must be one of official, code, none"):
        prefiller(arith, arith.tasks(), "fence")


def test_apps_opening_carries_the_starter_code():
    """APPS keeps its opening on the task (ReST-RL's reply, the fence, then the starter code)."""
    from restrl_eval.benchmarks import Task

    task = Task("APPS/1", "p", "f", "ask", {"response_prefix": "Below is ...:\n```python\nclass Solution:\n"})
    assert official_prefill(object(), task) == "Below is ...:\n```python\nclass Solution:\n"


def test_none_sends_no_prefill_and_keeps_the_first_fenced_block(tiny_policy, humaneval):
    bench, tasks = humaneval
    req = GenerationRequest(bench.prompt(tasks[0], "chat"), max_tokens=12, stop=("```",))
    [[got]] = with_prefill(tiny_policy, bench, tasks, "none").generate([req])
    [[raw]] = tiny_policy.generate([GenerationRequest(req.prompt, max_tokens=12, stop=(), prefill="")])
    assert got.text == first_fenced_block(raw.text).split("```")[0]
    assert (got.prompt_tokens, got.completion_tokens) == (raw.prompt_tokens, raw.completion_tokens)
    assert first_fenced_block("Sure:\n```python\ndef f():\n    return 1\n```\nBye") == \
        "def f():\n    return 1\n```\nBye"


def test_none_cannot_continue_an_mcts_state(tiny_policy, humaneval):
    bench, tasks = humaneval
    policy = with_prefill(tiny_policy, bench, tasks, "none")
    assert not policy.supports_prefix(chat=True) and policy.supports_prefix(chat=False)
    assert "--prefill none" in policy.prefix_refusal
    with pytest.raises(BackendError, match="--prefill none"):
        policy.generate([GenerationRequest(bench.prompt(tasks[0], "chat"), prefix="def f():\n", max_tokens=2)])
    # completion requests pass through untouched
    req = GenerationRequest("def add(a, b):\n", chat=False, max_tokens=3)
    assert policy.generate([req]) == tiny_policy.generate([req])
    assert policy.name == tiny_policy.name  # everything else is the wrapped policy's
