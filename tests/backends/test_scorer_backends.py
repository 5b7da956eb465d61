"""Scorer backends on tiny real checkpoints: a restrl-trained scorer's ``restrl_scorer.json``,
the chat-template ORM and the token-level PRM (causal-LM and token-classifier heads).

Every expected score is recomputed here by hand with plain transformers (the template
rendered, the separator positions found from the whole text's offsets), so the backends
are checked against the models, not against themselves.
"""
from __future__ import annotations

import json
import math
import shutil

import pytest

from restrl_eval.backends import DEFAULT_SCORER_LAYOUT, SCORER_BACKENDS, BackendError, load_scorer

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

PROBLEM = "Return the sum of a list of integers."
PROGRAMS = [
    "def total(xs):\n    return sum(xs)",
    "def total(xs):\n    return 0",
    "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s",
]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _last_token_logit(model_dir, text: str, add_special_tokens: bool) -> float:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32).eval()
    ids = tok(text, add_special_tokens=add_special_tokens, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        return float(model(input_ids=ids).logits[0, 0])


# -- restrl_scorer.json ---------------------------------------------------------------------
@pytest.fixture()
def trained_dir(tiny_scorer_dir, tmp_path):
    """A copy of the tiny scorer with the metadata restrl's trainer writes."""
    out = tmp_path / "trained"
    shutil.copytree(tiny_scorer_dir, out)
    (out / "restrl_scorer.json").write_text(json.dumps(
        {"format": 1, "kind": "vm", "layout": "Q: {problem}\nA: {code}", "problem_field": "raw",
         "output": "sigmoid", "base": "tiny"}))
    return out


def test_a_restrl_trained_scorer_loads_its_layout_problem_field_and_output(trained_dir, tiny_scorer_dir):
    s = load_scorer(str(trained_dir), device="cpu")
    assert (s.layout, s.problem_field, s.output, s.probabilities) == ("Q: {problem}\nA: {code}", "raw", "sigmoid", True)
    [got] = s.score(PROBLEM, PROGRAMS[:1])
    want = _sigmoid(_last_token_logit(tiny_scorer_dir, f"Q: {PROBLEM}\nA: {PROGRAMS[0]}", True))
    assert got == pytest.approx(want, abs=1e-5) and 0 < got < 1
    assert s.value(PROBLEM, PROGRAMS[:1]) == pytest.approx([want], abs=1e-5)
    d = s.describe()
    assert (d["problem_field"], d["output"], d["kind"], d["layout"]) == ("raw", "sigmoid", "vm", "Q: {problem}\nA: {code}")
    assert d["metadata"].endswith("restrl_scorer.json")
    # an explicit option wins over the file
    s2 = load_scorer(str(trained_dir), device="cpu", problem_field="prompt", output="raw",
                     layout=DEFAULT_SCORER_LAYOUT)
    assert (s2.problem_field, s2.probabilities) == ("prompt", False)


def test_without_the_file_the_scorer_behaves_as_before(tiny_scorer_dir):
    s = load_scorer(tiny_scorer_dir, device="cpu")
    assert (s.layout, s.problem_field, s.output, s.probabilities) == (DEFAULT_SCORER_LAYOUT, "prompt", "raw", False)
    [got] = s.score(PROBLEM, PROGRAMS[:1])
    assert got == pytest.approx(_last_token_logit(tiny_scorer_dir, DEFAULT_SCORER_LAYOUT.format(
        problem=PROBLEM, code=PROGRAMS[0]), True), abs=1e-5)


@pytest.mark.parametrize("content,match", [
    ('{"output": "tanh"}', "field 'output' is 'tanh'"),
    ('{"problem_field": "question"}', "field 'problem_field'"),
    ('{"layout": 3}', "field 'layout' must be a string"),
    ('{"output": "sigmoid",', "not valid JSON"),
    ('[1]', "expected a JSON object"),
])
def test_a_bad_metadata_file_is_a_one_line_error_naming_it(trained_dir, content, match):
    (trained_dir / "restrl_scorer.json").write_text(content)
    with pytest.raises(BackendError, match=match) as err:
        load_scorer(str(trained_dir), device="cpu")
    assert "restrl_scorer.json" in str(err.value) and "\n" not in str(err.value)


def test_a_bad_problem_field_option_is_refused(tiny_scorer_dir):
    with pytest.raises(BackendError, match="problem field 'question'"):
        load_scorer(tiny_scorer_dir, problem_field="question")


def test_scorer_counts_rows_and_tokens(tiny_scorer_dir):
    s = load_scorer(tiny_scorer_dir, device="cpu")
    s.score(PROBLEM, PROGRAMS)
    tok = s.tokenizer
    want = sum(len(tok(DEFAULT_SCORER_LAYOUT.format(problem=PROBLEM, code=p))["input_ids"]) for p in PROGRAMS)
    assert (s.calls, s.tokens) == (3, want)


# -- the chat-template ORM --------------------------------------------------------------------
def test_backends_are_registered():
    assert {"transformers", "chat-orm", "token-prm"} <= set(SCORER_BACKENDS.names())


def test_chat_orm_scores_the_chat_template_conversation(tiny_scorer_dir):
    from transformers import AutoTokenizer

    s = load_scorer(tiny_scorer_dir, backend="chat-orm", device="cpu")
    assert s.name == "chat-orm" and s.probabilities is False
    tok = AutoTokenizer.from_pretrained(tiny_scorer_dir)
    texts = [tok.apply_chat_template([{"role": "user", "content": PROBLEM}, {"role": "assistant", "content": p}],
                                     tokenize=False) for p in PROGRAMS]
    assert "<|im_start|>user\n" + PROBLEM in texts[0] and "<|im_start|>assistant\n" + PROGRAMS[0] in texts[0]
    want = [_last_token_logit(tiny_scorer_dir, t, False) for t in texts]
    got = s.score(PROBLEM, PROGRAMS)  # batched, padded
    assert got == pytest.approx(want, abs=1e-4)
    assert len({round(x, 5) for x in got}) == 3
    # not the <prompt>/<answer> layout of the official value models
    plain = load_scorer(tiny_scorer_dir, device="cpu").score(PROBLEM, PROGRAMS)
    assert got != pytest.approx(plain, abs=1e-4)
    assert s.value(PROBLEM, PROGRAMS) == pytest.approx([_sigmoid(x) for x in want], abs=1e-4)
    lines = PROGRAMS[2].split("\n")
    assert s.score_steps(PROBLEM, lines) == pytest.approx(
        s.score(PROBLEM, ["\n".join(lines[: i + 1]) for i in range(len(lines))]), abs=1e-4)
    assert s.calls == 3 + 3 + len(lines) * 2
    assert s.tokens > 0 and s.describe()["backend"] == "chat-orm"


def test_chat_orm_needs_a_chat_template(tiny_scorer_dir, tmp_path):
    out = tmp_path / "no-template"
    shutil.copytree(tiny_scorer_dir, out)
    cfg = json.loads((out / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (out / "tokenizer_config.json").write_text(json.dumps(cfg))
    for extra in ("chat_template.jinja", "chat_template.json"):
        (out / extra).unlink(missing_ok=True)
    with pytest.raises(BackendError, match="no chat template"):
        load_scorer(str(out), backend="chat-orm", device="cpu")


# -- the token-level PRM ----------------------------------------------------------------------
def _separator_positions(tok, text: str, sep: str) -> tuple[list[int], list[int]]:
    """Index of the last token of every separator, from the whole text's offsets."""
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ends, start = [], 0
    while (i := text.find(sep, start)) != -1:
        ends.append(i + len(sep))
        start = i + len(sep)
    return [max(k for k, (_, e) in enumerate(enc["offset_mapping"]) if e == end) for end in ends], enc["input_ids"]


def _manual_step_probs(model_dir, head: str, text: str, sep: str) -> list[float]:
    from transformers import AutoModelForCausalLM, AutoModelForTokenClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    positions, ids = _separator_positions(tok, text, sep)
    cls = AutoModelForCausalLM if head == "lm" else AutoModelForTokenClassification
    model = cls.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    if head == "lm":
        good, bad = tok("+", add_special_tokens=False)["input_ids"][0], tok("-", add_special_tokens=False)["input_ids"][0]
        return [float(torch.softmax(logits[p, [good, bad]], -1)[0]) for p in positions]
    return [float(torch.softmax(logits[p], -1)[1]) for p in positions]


@pytest.fixture(scope="module")
def token_classifier_dir(tiny_lm_dir, tmp_path_factory):
    """A tiny Qwen2ForTokenClassification with 2 labels (a Qwen-PRM-style head)."""
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    out = tmp_path_factory.mktemp("tiny_token_prm")
    cfg = AutoConfig.from_pretrained(tiny_lm_dir)
    cfg.num_labels, cfg.architectures = 2, None
    torch.manual_seed(3)
    AutoModelForTokenClassification.from_config(cfg).save_pretrained(str(out))
    AutoTokenizer.from_pretrained(tiny_lm_dir).save_pretrained(str(out))
    return str(out)


@pytest.mark.parametrize("head", ["lm", "token"])
def test_token_prm_reads_a_probability_at_every_step_separator(head, tiny_lm_dir, token_classifier_dir):
    model_dir = tiny_lm_dir if head == "lm" else token_classifier_dir
    s = load_scorer(model_dir, backend="token-prm", device="cpu")
    assert s.head == head and s.probabilities is True
    lines = PROGRAMS[2].split("\n")
    got = s.score_steps(PROBLEM, lines)
    text = PROBLEM + "\n" + "\n".join(line + " ки" for line in lines)
    want = _manual_step_probs(model_dir, head, text, " ки")
    assert len(got) == len(lines) and got == pytest.approx(want, abs=1e-4)
    assert all(0 < p < 1 for p in got) and len({round(p, 5) for p in got}) > 1
    # one forward pass (one row) per program, whatever its number of lines
    assert s.calls == 1 and s.tokens == len(_separator_positions(s.tokenizer, text, " ки")[1])
    # a program's outcome score and value are the probability at its last step; batching changes nothing
    scores = s.score(PROBLEM, PROGRAMS + [""])
    alone = [s.score_steps(PROBLEM, p.split("\n"))[-1] for p in PROGRAMS]
    assert scores[:3] == pytest.approx(alone, abs=1e-5) and scores[3] == 0.0
    assert s.value(PROBLEM, PROGRAMS) == pytest.approx(alone, abs=1e-5)


def test_token_prm_in_chat_mode_puts_the_steps_in_the_assistant_turn(tiny_lm_dir):
    from transformers import AutoTokenizer

    s = load_scorer(tiny_lm_dir, backend="token-prm", device="cpu", chat=True)
    lines = PROGRAMS[0].split("\n")
    got = s.score_steps(PROBLEM, lines)
    tok = AutoTokenizer.from_pretrained(tiny_lm_dir)
    head = tok.apply_chat_template([{"role": "user", "content": PROBLEM}], tokenize=False, add_generation_prompt=True)
    assert head.endswith("<|im_start|>assistant\n")
    text = head + "\n".join(line + " ки" for line in lines)
    assert got == pytest.approx(_manual_step_probs(tiny_lm_dir, "lm", text, " ки"), abs=1e-4)
    assert got != pytest.approx(load_scorer(tiny_lm_dir, backend="token-prm", device="cpu").score_steps(
        PROBLEM, lines), abs=1e-4)


def test_token_prm_bad_options_are_one_line_errors(tiny_lm_dir):
    with pytest.raises(BackendError, match="good label 'ab cd ef' is [0-9]+ tokens"):
        load_scorer(tiny_lm_dir, backend="token-prm", good="ab cd ef")
    with pytest.raises(BackendError, match="head 'mlp'"):
        load_scorer(tiny_lm_dir, backend="token-prm", head="mlp")
    with pytest.raises(BackendError, match="unknown option"):
        load_scorer(tiny_lm_dir, backend="token-prm", layout="{problem}{code}")


def test_token_prm_keeps_the_end_of_an_overlong_input_and_leaves_cut_steps_unscored(tiny_lm_dir):
    full = load_scorer(tiny_lm_dir, backend="token-prm", device="cpu")
    lines = PROGRAMS[2].split("\n")
    ids, marks = full.encode(PROBLEM, lines)
    short = load_scorer(tiny_lm_dir, backend="token-prm", device="cpu", max_length=len(ids) - marks[1] - 1)
    got = short.score_steps(PROBLEM, lines)
    assert math.isnan(got[0]) and math.isnan(got[1]) and not any(math.isnan(x) for x in got[2:])
    assert short.tokens == len(ids) - marks[1] - 1
    # the last step (a program's score) is still read; the aggregate of a cut program is NaN
    assert math.isfinite(short.score(PROBLEM, [PROGRAMS[2]])[0])
    from restrl_eval.backends import aggregate

    assert all(math.isnan(aggregate(got, how)) for how in ("min", "last", "mean", "prod"))


def test_an_overlong_input_loses_the_start_of_its_code_not_its_problem(tiny_scorer_dir):
    full = load_scorer(tiny_scorer_dir, device="cpu")
    code = "\n".join(f"x{i} = {i}" for i in range(40))
    ids = full.encode(PROBLEM, code)
    head = full.tokenizer(DEFAULT_SCORER_LAYOUT.split("{code}")[0].format(problem=PROBLEM))["input_ids"]
    short = load_scorer(tiny_scorer_dir, device="cpu", max_length=len(head) + 30)
    cut = short.encode(PROBLEM, code)
    assert len(cut) == len(head) + 30 and cut[: len(head)] == ids[: len(head)] and cut[len(head):] == ids[-30:]
    assert short.score(PROBLEM, [code]) == pytest.approx(short._forward([cut]), abs=1e-6)
    # a problem too long to keep leaves the input's end, as before
    tiny = load_scorer(tiny_scorer_dir, device="cpu", max_length=len(head))
    assert tiny.encode(PROBLEM, code) == ids[-len(head):]
