"""``restrl`` as an lm-evaluation-harness model: any restrl decoding strategy behind
``generate_until``.

Why a strategy and not a bare model: lm-eval asks one completion per request; restrl's
strategies (greedy, sample, best-of-N with an ORM or a PRM, ORM-MCTS, VM-MCTS) spend a
budget of complete candidates per request and answer with the one they choose. The
requests of a batch are grouped by generation settings and solved together
(``solve_batch``, ``batch_size`` tasks per policy call), each with restrl's own per-task
seed, so an lm-eval run gives what ``restrl-eval run`` gives with the same settings.

The model reads only the request's context and the document's public fields
(``docs.PUBLIC_FIELDS``): never a task's tests. For restrl's own tasks (documents with a
``benchmark``) the answer is the program restrl would judge (the benchmark's code
extraction of the chosen candidate) and its cost record is booked in ``costs`` for the
task's judge; for any other lm-eval task the answer is the chosen candidate's text.
"""
from __future__ import annotations

import collections
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from restrl_eval.plugins.lm_eval import costs
from restrl_eval.plugins.lm_eval.docs import public_task

log = logging.getLogger(__name__)

__all__ = ["RestrlLM"]


class _ContextView:
    """The benchmark a strategy sees: prompts are lm-eval's contexts; code extraction is the
    restrl benchmark's (documents of restrl tasks) or the identity (any other task)."""

    def __init__(self, bench: Any, contexts: dict[str, str]) -> None:
        self.bench, self.contexts = bench, contexts
        self.name = getattr(bench, "name", "lm-eval")

    def prompt(self, task: Any, style: str = "completion") -> str:
        return self.contexts[task.task_id]

    def extract_code(self, task: Any, text: str) -> str:
        return self.bench.extract_code(task, text) if self.bench is not None else text

    def raw_problem(self, task: Any) -> str:
        return str(task.prompt)


def _int_or_none(value: Any, name: str) -> int | None:
    if value in (None, "", "auto") or (isinstance(value, str) and value.startswith("auto")):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"restrl model_args: {name}={value!r} is not an integer") from None


def _usable_device(device: str | None) -> bool:
    """lm-eval's CLI passes ``--device`` (``cuda`` by default) to every model; on a machine
    without CUDA that default is dropped and the backend picks the device."""
    if not device:
        return False
    if str(device).startswith("cuda"):
        import torch

        return bool(torch.cuda.is_available())
    return True


_LOAD_ERRORS = (OSError, ValueError, KeyError, ImportError, RuntimeError)  # BackendError is a RuntimeError


def _backends() -> Any:
    from restrl_eval import backends

    return backends


def _load(key: str, value: str, load: Any) -> Any:
    """``load()``, with any load error turned into one line naming the model argument."""
    try:
        return load()
    except _LOAD_ERRORS as exc:
        text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        raise ValueError(f"restrl model_args: {key}={value}: {text}") from None


def _make_strategy(name: str, args: dict[str, Any], scorer: str | None, temperature: float | None) -> Any:
    """The strategy, checked as ``restrl-eval run`` checks it; errors name the argument."""
    from restrl_eval.registry import RegistryError
    from restrl_eval.strategies import StrategyError, create_strategy

    try:
        strat = create_strategy(name, args)
    except (RegistryError, StrategyError, TypeError, ValueError) as exc:
        raise ValueError(f"restrl model_args: strategy={name}: {str(exc).splitlines()[0]}") from None
    if strat.needs_scorer and not scorer:
        raise ValueError(f"restrl model_args: strategy {name!r} needs scorer=PATH")
    if strat.default_temperature == 0.0 and temperature not in (None, 0, 0.0):
        raise ValueError(f"restrl model_args: strategy {name!r} decodes at temperature 0; drop temperature")
    return strat


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@register_model("restrl")
class RestrlLM(LM):
    """``--model restrl --model_args pretrained=PATH,strategy=vm-mcts,budget=16,scorer=VM``.

    Unknown keys are the strategy's own arguments (``agg=min`` for prm, ``c=0.1`` for MCTS).
    ``temperature``: the strategy's default unless given (lm-eval's do_sample/temperature
    generation kwargs are ignored: the strategy decides). ``max_tokens``: overrides the
    task's ``max_gen_toks``. ``prompt_style``: ``chat`` (the policy's chat template, with
    restrl's code-fence prefill) or ``completion`` (the context as is).
    """

    def __init__(self, pretrained: str | None = None, model: str | None = None, strategy: str = "greedy",
                 backend: str = "transformers", scorer: str | None = None, scorer_backend: str = "transformers",
                 budget: int | None = None, seed: int = 0, temperature: float | None = None, top_p: float = 1.0,
                 max_tokens: int | None = None, prompt_style: str = "chat", threads: int | None = None,
                 batch_size: Any = None, max_batch_size: Any = None, device: str | None = None,
                 **strategy_args: Any) -> None:
        super().__init__()
        spec = pretrained or model
        if not spec:
            raise ValueError("restrl model_args: pretrained=PATH is missing (a checkpoint, an alias or a server URL)")
        if prompt_style not in ("chat", "completion"):
            raise ValueError(f"restrl model_args: prompt_style={prompt_style!r}: expected chat or completion")
        self.strategy = _make_strategy(strategy, strategy_args, scorer, temperature)
        self.budget = _int_or_none(budget, "budget") or int(self.strategy.default_budget)
        self.seed = int(seed)
        self.temperature = float(temperature) if temperature is not None else float(self.strategy.default_temperature)
        self.top_p, self.max_tokens = float(top_p), _int_or_none(max_tokens, "max_tokens")
        self.chat = prompt_style == "chat"
        self.batch_tasks = max(1, _int_or_none(batch_size, "batch_size") or 1)
        if threads is not None:
            import torch

            torch.set_num_threads(int(threads))
        options = {"device": device} if _usable_device(device) and backend in ("transformers", "hf") else {}
        self.policy = _load("pretrained", str(spec), lambda: _backends().load_policy(str(spec), backend=backend,
                                                                                     **options))
        self.scorer = _load("scorer", str(scorer), lambda: _backends().load_scorer(
            str(scorer), backend=scorer_backend)) if scorer else None
        self._benches: dict[str, Any] = {}
        self._warned_style = False

    # -- lm-eval API -----------------------------------------------------------------------
    def loglikelihood(self, requests: list[Any]) -> list[tuple[float, bool]]:
        raise NotImplementedError("the restrl model is generate-only (generate_until tasks)")

    def loglikelihood_rolling(self, requests: list[Any]) -> list[float]:
        raise NotImplementedError("the restrl model is generate-only (generate_until tasks)")

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        from tqdm.auto import tqdm

        from restrl_eval.strategies import SolveContext
        from restrl_eval.strategies.base import solve_batch

        out: list[str] = [""] * len(requests)
        groups = self._group(requests)
        bar = tqdm(total=len(requests), disable=disable_tqdm, desc=f"restrl {self.strategy.spec.name}")
        for (bench_name, sampling), items in groups.items():
            view = _ContextView(self._benchmark(bench_name), {t.task_id: c for _, c, t, _ in items})
            ctx = SolveContext(policy=self.policy, benchmark=view, budget=self.budget, seed=self.seed,
                               sampling=sampling, scorer=self.scorer, chat=self.chat)
            for chunk in _chunks(items, self.batch_tasks):
                for (i, _c, _t, doc_task_id), sol in zip(chunk, solve_batch(self.strategy, [t for _, _, t, _ in chunk], ctx)):
                    out[i] = sol.code
                    if bench_name:
                        costs.record(doc_task_id, sol.code, {"strategy": self.strategy.spec.to_dict(),
                                                             "budget": self.budget, "chosen": sol.index,
                                                             "cost": sol.cost.to_dict()})
                bar.update(len(chunk))
        bar.close()
        return out

    # -- helpers ---------------------------------------------------------------------------
    def _group(self, requests: list[Any]) -> dict[tuple[str, Any], list[tuple[int, str, Any, str]]]:
        """Requests grouped by (restrl benchmark, sampling settings). lm-eval repeats an
        Instance ``repeats`` times; the r-th repeat gets task id ``ID#r`` (its own seed)."""
        groups: dict[tuple[str, Any], list[tuple[int, str, Any, str]]] = collections.defaultdict(list)
        seen: collections.Counter[tuple[str, str]] = collections.Counter()
        for i, req in enumerate(requests):
            context, gen_kwargs = req.args[0], (req.args[1] if len(req.args) > 1 else {}) or {}
            doc = req.doc if isinstance(req.doc, dict) else {}
            bench_name = str(doc["benchmark"]) if doc.get("benchmark") and "task_id" in doc else ""
            base = str(doc["task_id"]) if bench_name else f"{req.task_name}/{req.doc_id}"
            r = seen[(base, context)]
            seen[(base, context)] += 1
            task = public_task(doc, base if r == 0 else f"{base}#{r}", context)
            if bench_name:
                self._check_style(doc, context)
            groups[(bench_name, self._sampling(gen_kwargs))].append((i, context, task, base))
        return groups

    def _sampling(self, gen_kwargs: dict[str, Any]) -> Any:
        from restrl_eval.strategies import SamplingParams

        until = gen_kwargs.get("until") or ["```"]
        until = [until] if isinstance(until, str) else list(until)
        max_tokens = self.max_tokens or _int_or_none(gen_kwargs.get("max_gen_toks"), "max_gen_toks") or 512
        return SamplingParams(temperature=self.temperature, top_p=self.top_p, max_tokens=max_tokens,
                              stop=tuple(until))

    def _benchmark(self, name: str) -> Any:
        if not name:
            return None
        if name not in self._benches:
            from restrl_eval.benchmarks import get_benchmark

            self._benches[name] = get_benchmark(name)
        return self._benches[name]

    def _check_style(self, doc: dict[str, Any], context: str) -> None:
        other = doc.get("prompt_completion" if self.chat else "prompt_chat")
        if not self._warned_style and other and context == other and other != doc.get(
                "prompt_chat" if self.chat else "prompt_completion"):
            self._warned_style = True
            log.warning("restrl: prompt_style=%s but the task gives the %s prompt; use the matching task variant",
                        "chat" if self.chat else "completion", "completion" if self.chat else "chat")
