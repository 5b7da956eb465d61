"""The search tree of line-level MCTS: nodes, UCT selection, backup and top-k pruning.

Why a module with no model code: the three searches (VM-MCTS, ORM-MCTS, execution-reward
data collection) differ only in how a new state is valued; the tree arithmetic is shared
and must match the official ReST-RL implementation exactly, so it is kept small, pure and
tested on hand-built trees. A state is the problem plus the code lines chosen so far; the
node stores that code prefix (every action ends with a newline) and its statistics.

Official arithmetic (THUDM/ReST-RL ``algorithms/MCTS/mcts.py``):
- ``UCT(child) = V(child) + c * sqrt((1 + ln N(parent)) / (eps + n(child)))`` with ``V`` the
  mean value (sum / visits, 0 when unvisited); ties are broken at random.
- selection descends through expanded nodes, over visible children only.
- backup adds ``(visits, value_sum)`` to a node and every ancestor.
- after an expansion only the best ``keep`` children by value stay visible (a stable
  sort: equal values keep sampling order).

A child reached by several continuations is terminal only while all of them ended after
its line: letting the first continuation decide (as restrl did before) made a root whose
first sample stopped early collapse into best-of-N.

Batched search adds a *virtual loss*: a leaf chosen for the batch in flight counts as
visited with value 0 along its path, so the next selection of the same batch prefers
other leaves. With one leaf per batch it is always zero and the arithmetic is official.
"""
from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Node", "UCTParams", "add_virtual", "backup", "has_open_leaf", "prune", "select_child", "select_leaf", "uct"]


@dataclass(frozen=True)
class UCTParams:
    """Selection constants: ``c`` weighs exploration, ``eps`` keeps unvisited children finite.

    Official: c = 0.1 and eps = 0.1 for decoding (VM-MCTS), c = 0.2 for data collection.
    """

    c: float = 0.1
    eps: float = 0.1

    def __post_init__(self) -> None:
        if self.c < 0:
            raise ValueError(f"UCT c must be >= 0, got {self.c}")
        if self.eps <= 0:
            raise ValueError(f"UCT eps must be > 0, got {self.eps}")


class Node:
    """One state. ``state`` is the full code prefix; ``action`` the line that led here."""

    __slots__ = ("parent", "action", "state", "depth", "terminal", "children", "visits",
                 "value_sum", "expanded", "visible", "virtual", "expansions")

    def __init__(self, state: str = "", parent: Node | None = None, action: str = "",
                 terminal: bool = False) -> None:
        self.parent = parent
        self.action = action
        self.state = state
        self.depth: int = 0 if parent is None else parent.depth + 1
        self.terminal = terminal
        self.children: dict[str, Node] = {}  # action -> child, in sampling order
        self.visits = 0
        self.value_sum = 0.0
        self.expanded = False
        self.visible = True
        self.virtual = 0  # virtual-loss visits of the batch in flight
        self.expansions = 0  # how many times continuations were sampled from here

    @property
    def value(self) -> float:
        """Mean value ``V``; 0 for an unvisited node (as the official code initialises it)."""
        return self.value_sum / self.visits if self.visits else 0.0

    def add_child(self, action: str, terminal: bool = False) -> tuple[Node, bool]:
        """The child reached by ``action`` and whether it is new (duplicates merge).

        A child is terminal only while every continuation through it ended there: when a
        later continuation goes on past the line, the state is one the policy continues,
        so it becomes expandable again. (Letting the first continuation decide made a
        root whose first sample stopped early collapse into best-of-N.)
        """
        child = self.children.get(action)
        if child is not None:
            if child.terminal and not terminal:
                child.terminal = False
            return child, False
        child = Node(self.state + action, self, action, terminal)
        self.children[action] = child
        return child, True

    def visible_children(self) -> list[Node]:
        return [c for c in self.children.values() if c.visible]

    def path(self) -> list[Node]:
        """Root ... self."""
        out: list[Node] = []
        node: Node | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    def walk(self) -> Iterator[Node]:
        """Pre-order traversal of the whole subtree (pruned children included)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children.values())))

    def __repr__(self) -> str:
        return (f"Node(depth={self.depth}, action={self.action!r}, V={self.value:.4f}, "
                f"n={self.visits}, terminal={self.terminal}, expanded={self.expanded}, "
                f"visible={self.visible})")


def uct(child: Node, params: UCTParams) -> float:
    """``V + c * sqrt((1 + ln N_parent) / (eps + n_child))``, counting virtual visits.

    A virtual visit adds to the counts but not to the value sum (a virtual loss of 0).
    ``N_parent`` below 1 (never the case after a backup) is read as 1 so the log is defined.
    """
    if child.parent is None:
        raise ValueError("uct() needs a child node (the root has no parent)")
    n = child.visits + child.virtual
    v = child.value_sum / n if n else 0.0
    big_n = max(child.parent.visits + child.parent.virtual, 1)
    return v + params.c * math.sqrt((1.0 + math.log(big_n)) / (params.eps + n))


def select_child(node: Node, params: UCTParams, rng: random.Random | None = None,
                 open_only: bool = False) -> Node:
    """The visible child with the highest UCT; ties at random (``rng``) or the first one.
    ``open_only``: only among children below which something can still be expanded."""
    best: list[Node] = []
    best_score = -math.inf
    for child in node.children.values():
        if not child.visible or (open_only and not has_open_leaf(child)):
            continue
        score = uct(child, params)
        if score > best_score:
            best, best_score = [child], score
        elif score == best_score:
            best.append(child)
    if not best:
        raise ValueError(f"node at depth {node.depth} is expanded but has no visible child")
    return best[0] if rng is None or len(best) == 1 else rng.choice(best)


def select_leaf(root: Node, params: UCTParams, rng: random.Random | None = None,
                open_only: bool = False) -> Node:
    """Descend from ``root`` through expanded nodes by UCT; return the first node that is
    not expanded (a leaf to expand, or a terminal state). ``open_only`` skips subtrees
    with nothing left to expand, so the result is never terminal (``root`` must have an
    open leaf, see ``has_open_leaf``)."""
    node = root
    while node.expanded and not node.terminal:
        node = select_child(node, params, rng, open_only)
    return node


def has_open_leaf(node: Node) -> bool:
    """Whether a visible path from ``node`` reaches a node that can still be expanded."""
    if node.terminal:
        return False
    if not node.expanded:
        return True
    return any(has_open_leaf(c) for c in node.children.values() if c.visible)


def backup(node: Node, visits: int, value_sum: float) -> None:
    """Add ``visits`` and ``value_sum`` to ``node`` and all its ancestors."""
    cur: Node | None = node
    while cur is not None:
        cur.visits += visits
        cur.value_sum += value_sum
        cur = cur.parent


def add_virtual(node: Node, amount: int = 1) -> None:
    """Mark (or, with a negative amount, unmark) ``node``'s path as in flight."""
    cur: Node | None = node
    while cur is not None:
        cur.virtual += amount
        if cur.virtual < 0:
            raise ValueError("virtual visits below zero: unbalanced add_virtual")
        cur = cur.parent


def prune(node: Node, keep: int) -> list[Node]:
    """Keep the ``keep`` best children of ``node`` by value visible; hide the rest.

    Returns the children hidden by this call. The sort is stable, so equal values keep
    sampling order (what the official code does). Pruning is recomputed from scratch, so a
    node expanded again may bring a hidden child back.
    """
    if keep < 1:
        raise ValueError(f"prune keep must be >= 1, got {keep}")
    ranked = sorted(node.children.values(), key=lambda c: c.value, reverse=True)
    hidden = []
    for i, child in enumerate(ranked):
        was = child.visible
        child.visible = i < keep
        if was and not child.visible:
            hidden.append(child)
    return hidden
