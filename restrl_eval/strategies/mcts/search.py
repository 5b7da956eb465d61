"""The batched MCTS loop over line actions, shared by VM-MCTS, ORM-MCTS and data collection.

Why this shape: the paper's budget is the number of complete policy samples, so the loop
counts samples, not iterations, and stops exactly when the budget is spent (the last
expansion samples only what is left). Every expansion samples ``k`` full continuations of
a leaf; the first line of each becomes a child action (duplicates merge), and every full
continuation is also a complete candidate. To keep the policy and the scorer busy, one
round selects several leaves per tree (with a virtual loss, see ``tree``), runs the
continuations of every leaf of every tree in ONE ``policy.generate`` call, and values all
new states and programs of a tree in ONE evaluator call; ``leaves_per_call=1`` with one
tree is the official sequential search.

Per sample, the child its first line leads to is credited one visit with a value: the
value model's V(child state) (``vm``, official) or the rollout's own score (``orm``,
``exec``; ``child_credit=False`` reproduces the official ORM-MCTS, which leaves children at
0 so pruning keeps the first-sampled actions). The expanded leaf and its ancestors get the
sum of those credits (official backup). A selected terminal node that was visited backs up
its own mean once more and costs no sample (official). The official search then spends its
next iteration the same way, and with c = 0.1 a high-valued terminal state can absorb
every remaining iteration; with a budget of samples that would never end, so after
``max_idle`` terminal selections in a round, selection skips subtrees with nothing left to
expand. If the whole visible tree is finished, the root is expanded again, so the budget is
always spent.
"""
from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from restrl_eval.strategies.mcts.evaluators import EvalJob, EvalOutcome, LeafEvaluator
from restrl_eval.strategies.mcts.tree import (
    Node,
    UCTParams,
    add_virtual,
    backup,
    has_open_leaf,
    prune,
    select_leaf,
)

log = logging.getLogger(__name__)

__all__ = ["MCTSConfig", "SearchProblem", "SearchResult", "Sample", "SearchStats", "search_many",
           "split_action"]


@dataclass(frozen=True)
class MCTSConfig:
    """Search constants; the defaults are the official VM-MCTS decoding settings.

    ``k``: continuations sampled per expansion (official num_sample = 5).
    ``keep``: children left visible after an expansion (official num_decision = 5 in the
    published commands; the code's default is 3).
    ``leaves_per_call``: leaves of one tree expanded per policy call (1 = sequential).
    ``child_credit``: credit rollouts to the child of their first line (orm/exec only).
    ``max_idle``: selections per round that may end on a terminal state (each backs up
    that state's mean again, official) before selection skips finished subtrees.
    """

    c: float = 0.1
    eps: float = 0.1
    k: int = 5
    keep: int = 5
    leaves_per_call: int = 1
    child_credit: bool = True
    max_idle: int = 1

    def __post_init__(self) -> None:
        for name in ("k", "keep", "leaves_per_call"):
            if getattr(self, name) < 1:
                raise ValueError(f"MCTS {name} must be >= 1, got {getattr(self, name)}")
        if self.max_idle < 0:
            raise ValueError(f"MCTS max_idle must be >= 0, got {self.max_idle}")
        UCTParams(self.c, self.eps)  # validates c and eps

    @property
    def uct(self) -> UCTParams:
        return UCTParams(self.c, self.eps)


@dataclass(frozen=True)
class SearchProblem:
    """One tree to grow: a task, the policy's prompt for it, its seed and its budget.

    ``scorer_problem`` is what the scorer reads as the problem (``common.scorer_problem``);
    None means the policy's prompt.
    """

    task: Any
    prompt: str
    seed: int
    budget: int
    scorer_problem: str | None = None

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise ValueError(f"search budget must be >= 1, got {self.budget}")


@dataclass(frozen=True)
class Sample:
    """One complete candidate: the leaf's prefix plus a sampled continuation."""

    text: str  # prefix + continuation: the model's raw answer
    code: str  # the program the benchmark extracts from it
    value: float | None  # its evaluator score (None: empty program or non-finite score)
    depth: int  # depth of the leaf it was sampled from (0 = the root: an independent sample)
    expansion: int  # index of the expansion that sampled it
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


@dataclass
class SearchStats:
    """Counters of one tree (costs plus diagnostics)."""

    samples: int = 0
    scorer_calls: int = 0
    scorer_tokens: int = 0
    executions: int = 0
    completion_tokens: int = 0
    prompt_tokens: int = 0
    wall_s: float = 0.0
    expansions: int = 0
    root_reexpansions: int = 0
    terminal_visits: int = 0
    rounds: int = 0


@dataclass
class SearchResult:
    """A grown tree and every candidate it sampled, in sampling order."""

    problem: SearchProblem
    root: Node
    samples: list[Sample] = field(default_factory=list)
    stats: SearchStats = field(default_factory=SearchStats)

    def best_index(self) -> int:
        """The top-scored non-empty candidate (ties: the earliest; unscored rank last)."""
        best, best_value = 0, None
        for i, s in enumerate(self.samples):
            if s.value is not None and s.code.strip() and (best_value is None or s.value > best_value):
                best, best_value = i, s.value
        return best


def split_action(continuation: str) -> tuple[str, bool]:
    """The first line of a continuation as an action, and whether it ends the program.

    The action always ends with a newline. Leading blank lines are glued to the first
    non-blank line (a blank line is not a decision). The child is terminal when nothing
    but whitespace follows the action (official: the rstripped sample has one line) and no
    other continuation goes on past it (``Node.add_child``); a continuation that is only
    whitespace gives the terminal action ``"\\n"``.
    """
    if not continuation.strip():
        return "\n", True
    start = 0
    while True:
        end = continuation.find("\n", start)
        if end == -1:
            return continuation + "\n", True
        if continuation[start:end].strip():
            return continuation[: end + 1], not continuation[end + 1:].strip()
        start = end + 1


def _seed(seed: int, expansion: int) -> int:
    """The request seed of an expansion. The first (the root's) uses the problem seed
    itself, so its samples are exactly best-of-N's first samples for the same task."""
    if expansion == 0:
        return seed
    digest = hashlib.blake2b(f"{seed}:mcts:{expansion}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFFFFFF


@dataclass
class _Pending:
    leaf: Node
    n: int
    expansion: int
    seed: int
    generations: list[Any] = field(default_factory=list)


class _Tree:
    """The mutable search state of one problem."""

    def __init__(self, problem: SearchProblem, cfg: MCTSConfig) -> None:
        self.problem = problem
        self.cfg = cfg
        self.root = Node("")
        self.rng = random.Random(problem.seed)
        self.result = SearchResult(problem, self.root)
        self.unassigned = problem.budget
        self.cache: dict[tuple[str, str], float | None] = {}

    @property
    def done(self) -> bool:
        return self.unassigned == 0

    # -- selection ---------------------------------------------------------------------
    def collect(self, terminals: list[Node]) -> list[_Pending]:
        """Pick this round's leaves (virtual loss on each); unvisited terminal states met
        on the way are appended to ``terminals`` for scoring."""
        out: list[_Pending] = []
        idle = 0
        uct = self.cfg.uct
        while len(out) < self.cfg.leaves_per_call and self.unassigned > 0:
            if self.root.expanded and not has_open_leaf(self.root):
                if not out:
                    out.append(self._pend(self.root, reexpand=True))
                break
            leaf = select_leaf(self.root, uct, self.rng, open_only=idle >= self.cfg.max_idle)
            if leaf.virtual > 0:  # already in flight: this tree has nothing else to offer now
                break
            if leaf.terminal:
                idle += 1
                self.result.stats.terminal_visits += 1
                if leaf.visits:
                    backup(leaf, 1, leaf.value)
                else:  # official ORM-MCTS: children start unvisited; score the program itself
                    terminals.append(leaf)
                    add_virtual(leaf)
                continue
            out.append(self._pend(leaf))
        return out

    def _pend(self, leaf: Node, reexpand: bool = False) -> _Pending:
        n = min(self.cfg.k, self.unassigned)
        self.unassigned -= n
        expansion = self.result.stats.expansions
        self.result.stats.expansions += 1
        if reexpand:
            self.result.stats.root_reexpansions += 1
        add_virtual(leaf)
        return _Pending(leaf, n, expansion, _seed(self.problem.seed, expansion))

    # -- evaluation and backup -----------------------------------------------------------
    def build_job(self, pending: Sequence[_Pending], terminals: Sequence[Node],
                  extract: Callable[[Any, str], str], values_states: bool) -> tuple[EvalJob, list]:
        """Create children and candidates; return the job of texts not valued yet."""
        plan = []  # (pending, [(child, sample_text, code, generation)])
        states: list[str] = []
        programs: list[str] = []
        for p in pending:
            rows = []
            for g in p.generations:
                action, terminal = split_action(g.text)
                child, _ = p.leaf.add_child(action, terminal)
                text = p.leaf.state + g.text
                code = extract(self.problem.task, text)
                rows.append((child, text, code, g))
                if (values_states and child.visits == 0 and ("s", child.state) not in self.cache
                        and child.state not in states):
                    states.append(child.state)
                if ("p", code) not in self.cache and code not in programs:
                    programs.append(code)
            plan.append((p, rows))
        for node in terminals:
            code = extract(self.problem.task, node.state)
            if ("p", code) not in self.cache and code not in programs:
                programs.append(code)
        problem = self.problem.prompt if self.problem.scorer_problem is None else self.problem.scorer_problem
        return EvalJob(self.problem.task, problem, tuple(states), tuple(programs)), plan

    def apply(self, job: EvalJob, outcome: EvalOutcome, plan: list, terminals: Sequence[Node],
              extract: Callable[[Any, str], str], values_states: bool) -> None:
        stats = self.result.stats
        stats.scorer_calls += outcome.scorer_calls
        stats.scorer_tokens += outcome.scorer_tokens
        stats.executions += outcome.executions
        self.cache.update({("s", s): v for s, v in zip(job.states, outcome.states)})
        self.cache.update({("p", p): v for p, v in zip(job.programs, outcome.programs)})
        for p, rows in plan:
            credits = 0.0
            for child, text, code, g in rows:
                value = self.cache[("p", code)]
                self.result.samples.append(Sample(
                    text, code, value, p.leaf.depth, p.expansion, int(g.prompt_tokens),
                    int(g.completion_tokens), str(g.finish_reason)))
                stats.completion_tokens += int(g.completion_tokens)
                stats.prompt_tokens += int(g.prompt_tokens)
                if values_states:
                    # official: a new child is valued once; a duplicate adds its current mean
                    credit = child.value if child.visits else (self.cache[("s", child.state)] or 0.0)
                    child.visits += 1
                    child.value_sum += credit
                else:
                    credit = value or 0.0
                    if self.cfg.child_credit:
                        child.visits += 1
                        child.value_sum += credit
                credits += credit
            stats.samples += len(rows)
            prune(p.leaf, self.cfg.keep)
            p.leaf.expanded = True
            p.leaf.expansions += 1
            add_virtual(p.leaf, -1)
            backup(p.leaf, len(rows), credits)
        for node in terminals:
            add_virtual(node, -1)
            backup(node, 1, self.cache[("p", extract(self.problem.task, node.state))] or 0.0)


def search_many(
    problems: Sequence[SearchProblem],
    policy: Any,
    evaluator: LeafEvaluator,
    extract: Callable[[Any, str], str],
    *,
    cfg: MCTSConfig = MCTSConfig(),
    temperature: float = 0.7,
    top_p: float = 1.0,
    max_tokens: int = 512,
    stop: Sequence[str] = ("```",),
    chat: bool = True,
) -> list[SearchResult]:
    """Grow one tree per problem, all in lockstep; return them in problem order.

    Each round makes one ``policy.generate`` call for every selected leaf of every tree
    still running and one ``evaluator.evaluate`` call with one job per tree. Wall time is
    shared out among the trees of a round by their number of sampled rows.
    """
    from restrl_eval.backends.base import GenerationRequest  # heavy backends stay lazy

    trees = [_Tree(p, cfg) for p in problems]
    while True:
        t0 = time.perf_counter()
        active = [t for t in trees if not t.done]
        if not active:
            break
        rounds = []
        for t in active:
            terminals: list[Node] = []
            pending = t.collect(terminals)
            rounds.append((t, pending, terminals))
        requests = [
            GenerationRequest(prompt=t.problem.prompt, prefix=p.leaf.state, chat=chat, n=p.n,
                              temperature=temperature, top_p=top_p if temperature > 0 else 1.0,
                              max_tokens=max_tokens, stop=tuple(stop), seed=p.seed)
            for t, pending, _ in rounds for p in pending
        ]
        generations = policy.generate(requests) if requests else []
        if len(generations) != len(requests):
            raise RuntimeError(f"policy returned {len(generations)} results for {len(requests)} requests")
        it = iter(generations)
        for _, pending, _ in rounds:
            for p in pending:
                p.generations = list(next(it))
                if len(p.generations) != p.n:  # a backend bug would silently break the budget
                    raise RuntimeError(f"policy returned {len(p.generations)} generations for n={p.n}")
        jobs, plans = [], []
        for t, pending, terminals in rounds:
            job, plan = t.build_job(pending, terminals, extract, evaluator.values_states)
            jobs.append(job)
            plans.append(plan)
        outcomes = evaluator.evaluate(jobs)
        if len(outcomes) != len(jobs):
            raise RuntimeError(f"evaluator returned {len(outcomes)} outcomes for {len(jobs)} jobs")
        for (t, _, terminals), job, outcome, plan in zip(rounds, jobs, outcomes, plans):
            t.apply(job, outcome, plan, terminals, extract, evaluator.values_states)
        elapsed = time.perf_counter() - t0
        weights = [sum(p.n for p in pending) for _, pending, _ in rounds]
        total = sum(weights)
        for (t, _, _), w in zip(rounds, weights):
            t.result.stats.wall_s += elapsed * (w / total if total else 1 / len(rounds))
            t.result.stats.rounds += 1
    for t in trees:
        if t.result.stats.samples != t.problem.budget:  # the loop's invariant; never silently off
            raise RuntimeError(f"search sampled {t.result.stats.samples} programs for a budget of "
                               f"{t.problem.budget}")
    return [t.result for t in trees]
