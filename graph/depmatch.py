"""Dependency patterns matched from their root node: spaCy's DependencyMatcher, at a fraction of its cost.

spaCy's :class:`~spacy.matcher.DependencyMatcher` runs one token pattern per
node of every pattern over the whole Doc, walks up from every token that
fits any node, and tries the product of all candidates tree by tree. With
seventy relation patterns whose nodes are as broad as "a direct object",
that was a third of newsgraph's whole analysis time.

:class:`TreeMatcher` takes the same patterns and gives the same matches, in
the same order. Each distinct node constraint is tested once per Doc: those
on plain token attributes from one pass over its tokens, any other by a
token :class:`~spacy.matcher.Matcher`; a pattern is then matched from each
token that fits its first node, following only each node's relation to its
parent.

>>> matcher = TreeMatcher(nlp.vocab)                      # doctest: +SKIP
>>> matcher.add("seize", [[{"RIGHT_ID": "v", "RIGHT_ATTRS": {"LEMMA": "seize"}},
...     {"LEFT_ID": "v", "REL_OP": ">", "RIGHT_ID": "o", "RIGHT_ATTRS": {"DEP": "dobj"}}]])
>>> matcher(nlp("Rebels seized the port."))               # doctest: +SKIP
[(1786..., [1, 3])]
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from spacy.matcher import DependencyMatcher, Matcher
from spacy.tokens import Doc


def _sent(doc: Doc, i: int) -> range:
    """The token positions of the tree ``i`` is in, as spaCy's DependencyMatcher reads a sentence."""
    root = doc[i]
    while root.head.i != root.i:
        root = root.head
    return range(root.left_edge.i, root.right_edge.i + 1)


def _siblings(doc: Doc, i: int) -> list[int]:
    return [c.i for c in doc[i].head.children]


# REL_OP → the positions related to position i, exactly as spaCy defines each operator.
_OPS: dict[str, Callable[[Doc, int], list[int]]] = {
    "<": lambda doc, i: [] if doc[i].head.i == i else [doc[i].head.i],
    ">": lambda doc, i: [c.i for c in doc[i].children],
    "<<": lambda doc, i: [a.i for a in doc[i].ancestors],
    ">>": lambda doc, i: [t.i for t in doc[i].subtree if t.i != i],
    ".": lambda doc, i: [i + 1] if i + 1 in _sent(doc, i) else [],
    ".*": lambda doc, i: list(range(i + 1, _sent(doc, i).stop)),
    ";": lambda doc, i: [i - 1] if i > 0 and i - 1 in _sent(doc, i) else [],
    ";*": lambda doc, i: list(range(_sent(doc, i).start, i)),
    "$+": lambda doc, i: [c for c in _siblings(doc, i) if c == i + 1],
    "$-": lambda doc, i: [c for c in _siblings(doc, i) if c == i - 1],
    "$++": lambda doc, i: [c for c in _siblings(doc, i) if c > i],
    "$--": lambda doc, i: [c for c in _siblings(doc, i) if c < i],
    ">+": lambda doc, i: [c.i for c in doc[i].rights if c.i == i + 1],
    ">-": lambda doc, i: [c.i for c in doc[i].lefts if c.i == i - 1],
    ">++": lambda doc, i: [c.i for c in doc[i].rights],
    ">--": lambda doc, i: [c.i for c in doc[i].lefts],
    "<+": lambda doc, i: [i + 1] if doc[i].head.i == i + 1 else [],
    "<-": lambda doc, i: [i - 1] if doc[i].head.i == i - 1 else [],
    "<++": lambda doc, i: [doc[i].head.i] if doc[i].head.i > i else [],
    "<--": lambda doc, i: [doc[i].head.i] if doc[i].head.i < i else [],
}


# Token attributes whose constraints (a string, or {"IN": [...]} / {"NOT_IN": [...]} of strings) are
# tested here from one pass over the Doc; any other constraint goes to spaCy's Matcher. Calling a
# Python predicate per token per "IN" constraint was most of the Matcher's time.
_PLAIN = {"ORTH": "orth_", "TEXT": "orth_", "LOWER": "lower_", "NORM": "norm_", "LEMMA": "lemma_",
          "POS": "pos_", "TAG": "tag_", "DEP": "dep_", "ENT_TYPE": "ent_type_"}

_Test = tuple[str, frozenset, bool]  # token attribute, values, whether the values are excluded


def _plain_tests(attrs: dict) -> tuple[_Test, ...] | None:
    """The constraint as attribute tests, or None if it needs spaCy's Matcher."""
    tests = []
    for name, value in attrs.items():
        attr = _PLAIN.get(name.upper())
        if attr is None:
            return None
        if isinstance(value, str):
            tests.append((attr, frozenset([value]), False))
        elif (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("IN", "NOT_IN")
              and all(isinstance(v, str) for v in next(iter(value.values())))):
            op, values = next(iter(value.items()))
            tests.append((attr, frozenset(values), op == "NOT_IN"))
        else:
            return None
    return tuple(tests)


@dataclass(frozen=True)
class _Node:
    constraint: int  # index of its constraint
    parent: int  # the earlier node it is related to (-1 for the first)
    op: str


class TreeMatcher:
    """A drop-in for :class:`spacy.matcher.DependencyMatcher`'s ``add``, ``get``, ``len`` and calls."""

    def __init__(self, vocab, validate: bool = True):
        self.vocab = vocab
        self.validate = validate
        self._tokens = Matcher(vocab, validate=validate)  # the constraints tested by spaCy
        self._index: dict[str, int] = {}  # a constraint as JSON → its index
        self._plain: dict[int, tuple[_Test, ...]] = {}  # index → tests made here
        self._spacy: dict[int, int] = {}  # Matcher key → index
        self._patterns: dict[int, list[tuple[_Node, ...]]] = {}  # in the order keys were first added
        self._raw: dict[int, list] = {}

    def __len__(self) -> int:
        return len(self._raw)

    def get(self, key: str | int, default=None):
        """``(None, patterns)`` for a key, as DependencyMatcher's ``get`` gives."""
        found = self._raw.get(self._key(key))
        return default if found is None else (None, found)

    def add(self, key: str, patterns: list[list[dict]]) -> None:
        """Add patterns under ``key``; raises ValueError for a pattern spaCy's DependencyMatcher refuses."""
        DependencyMatcher(self.vocab, validate=self.validate).add(key, patterns)  # spaCy's own checks
        k = self._key(key)
        for pattern in patterns:
            ids = {node["RIGHT_ID"]: n for n, node in enumerate(pattern)}
            nodes = []
            for n, node in enumerate(pattern):
                if n and ids[node["LEFT_ID"]] >= n:
                    raise ValueError(f"pattern {key}: node '{node['RIGHT_ID']}' is related to a node defined after it")
                nodes.append(_Node(self._constraint(node["RIGHT_ATTRS"]), ids[node["LEFT_ID"]] if n else -1,
                                   node.get("REL_OP", "")))
            self._patterns.setdefault(k, []).append(tuple(nodes))
        self._raw.setdefault(k, []).extend(patterns)

    def _key(self, key: str | int) -> int:
        return self.vocab.strings.add(key) if isinstance(key, str) else key

    def _constraint(self, attrs: dict) -> int:
        text = json.dumps(attrs, sort_keys=True)
        if text not in self._index:
            index = self._index[text] = len(self._index)
            tests = _plain_tests(attrs)
            if tests is not None:
                self._plain[index] = tests
            else:
                key = self.vocab.strings.add(f"newsgraph-node-{index}")
                self._tokens.add(key, [[attrs]])
                self._spacy[key] = index
        return self._index[text]

    def _fits(self, doc: Doc) -> dict[int, set[int]]:
        """The positions of the tokens that fit each constraint (constraints no token fits are left out)."""
        attrs = {attr for tests in self._plain.values() for attr, _, _ in tests}
        values: dict[str, dict[str, set[int]]] = {attr: {} for attr in attrs}
        for token in doc:
            for attr, table in values.items():
                table.setdefault(getattr(token, attr), set()).add(token.i)
        every = set(range(len(doc)))
        fits: dict[int, set[int]] = {}
        for index, tests in self._plain.items():
            found = every
            for attr, wanted, excluded in tests:
                table = values[attr]
                named = set().union(*(table[v] for v in wanted if v in table))
                found = found - named if excluded else found & named
                if not found:
                    break
            if found:
                fits[index] = found
        if self._spacy:
            for key, start, _end in self._tokens(doc):
                fits.setdefault(self._spacy[key], set()).add(start)
        return fits

    def __call__(self, doc: Doc) -> list[tuple[int, list[int]]]:
        """Every match, as ``(key, [position of each node])``, in DependencyMatcher's order."""
        fits = self._fits(doc)
        related: dict[tuple[int, str], frozenset[int]] = {}
        found: list[tuple[int, list[int]]] = []

        def extend(key: int, nodes: tuple[_Node, ...], chosen: list[int]) -> None:
            if len(chosen) == len(nodes):
                found.append((key, list(chosen)))
                return
            node = nodes[len(chosen)]
            at = (chosen[node.parent], node.op)
            if at not in related:
                related[at] = frozenset(_OPS[node.op](doc, at[0]))
            for i in sorted(related[at] & fits[node.constraint]):
                chosen.append(i)
                extend(key, nodes, chosen)
                chosen.pop()

        for key, patterns in self._patterns.items():
            for nodes in patterns:
                if all(n.constraint in fits for n in nodes):
                    for i in sorted(fits[nodes[0].constraint]):
                        extend(key, nodes, [i])
        return found
