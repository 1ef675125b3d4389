"""TreeMatcher gives exactly what spaCy's DependencyMatcher gives, for every operator and kind of constraint."""
from __future__ import annotations

import pytest
from spacy.matcher import DependencyMatcher

from newsgraph.depmatch import _OPS, TreeMatcher
from newsgraph.extract import expand_pattern
from newsgraph.resources import relation_specs

pytestmark = pytest.mark.model

TEXTS = [
    "The Harbour Brigade seized the northern port of Velmora on Tuesday after a long siege.",
    "Commander Ilse Marant met the mayor, and both men later toured the damaged bridge together.",
    "Rebels did not capture the airport; they withdrew from Gate 9 and regrouped near Ostrava.",
    "Talks between the Coastal Front and the River Union, which are allied to each other, resumed.",
    "Police arrested three men in Kalmar, Dunmore and Halvik, officials said.",
    "!!! ... ??? -- ;;",
    "Yes.",
]


@pytest.fixture(scope="module")
def docs(nlp):
    return list(nlp.pipe(TEXTS))


def both(nlp, patterns: dict[str, list[list[dict]]]):
    ours, theirs = TreeMatcher(nlp.vocab), DependencyMatcher(nlp.vocab, validate=True)
    for key, pats in patterns.items():
        ours.add(key, pats)
        theirs.add(key, pats)
    return ours, theirs


def same(ours, theirs, docs) -> int:
    total = 0
    for doc in docs:
        expected = [(key, list(ids)) for key, ids in theirs(doc)]
        assert ours(doc) == expected, doc.text
        total += len(expected)
    return total


def node(rid: str, attrs: dict, left: str | None = None, op: str | None = None) -> dict:
    n = {"RIGHT_ID": rid, "RIGHT_ATTRS": attrs}
    if left is not None:
        n.update(LEFT_ID=left, REL_OP=op)
    return n


@pytest.mark.parametrize("op", sorted(_OPS))
def test_every_operator_matches_as_spacy_does(nlp, docs, op):
    patterns = {
        f"any-{op}": [[node("a", {}), node("b", {}, "a", op)]],
        f"noun-{op}": [[node("a", {"POS": {"IN": ["NOUN", "PROPN"]}}), node("b", {"IS_ALPHA": True}, "a", op)]],
    }
    ours, theirs = both(nlp, patterns)
    assert same(ours, theirs, docs) > 0


def test_constraints_of_every_kind_and_branching_patterns(nlp, docs):
    patterns = {
        "verb-object": [[node("trigger", {"LEMMA": {"IN": ["seize", "capture", "arrest", "meet"]}, "POS": "VERB"}),
                         node("object", {"DEP": {"IN": ["dobj", "obj"]}}, "trigger", ">")]],
        "subject-and-object": [[node("v", {"POS": "VERB"}), node("s", {"DEP": "nsubj"}, "v", ">"),
                                node("o", {"DEP": "dobj"}, "v", ">"), node("d", {"LOWER": "the"}, "o", ">")]],
        "not-in": [[node("t", {"TAG": {"NOT_IN": ["NNP", "DT"]}, "LENGTH": {">=": 4}}),
                    node("h", {"ENT_TYPE": {"IN": ["GPE", "ORG", "PERSON", ""]}}, "t", "<")]],
        "regex-and-flags": [[node("p", {"TEXT": {"REGEX": "^[A-Z]"}, "IS_PUNCT": False}),
                             node("q", {"LOWER": {"FUZZY": "velmora"}}, "p", ">>")]],
        "several": [[node("a", {"ORTH": "of"}), node("b", {}, "a", ">")],
                    [node("a", {"NORM": "and"}), node("b", {}, "a", "<<"), node("c", {}, "b", "$++")]],
    }
    ours, theirs = both(nlp, patterns)
    assert same(ours, theirs, docs) > 10


def test_the_relation_patterns_match_as_spacy_does(nlp, docs):
    ours, theirs = TreeMatcher(nlp.vocab), DependencyMatcher(nlp.vocab, validate=True)
    for spec in relation_specs().values():
        for p in spec["patterns"]:
            pattern = expand_pattern(p["pattern"], spec.get("lexicon", {}), p["rule"])
            ours.add(p["rule"], [pattern])
            theirs.add(p["rule"], [pattern])
    assert len(ours) == len(theirs)
    assert same(ours, theirs, docs) > 0
    rule, = ours.get("captured.verb-object")[1]
    assert rule[0]["RIGHT_ID"] == "trigger"
    assert ours.get("no-such-rule") is None


@pytest.mark.parametrize("pattern", [
    [],
    [node("a", {"LEMMA": "x"}), node("b", {}, "a", "~~")],
    [node("a", {"LEMMA": "x"}), node("b", {}, "nowhere", ">")],
    [node("a", {"NO_SUCH_ATTR": "x"})],
])
def test_patterns_spacy_refuses_are_refused(nlp, pattern):
    with pytest.raises(ValueError):
        TreeMatcher(nlp.vocab).add("bad", [pattern])
