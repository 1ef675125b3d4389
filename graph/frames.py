"""Relation files as typed specs: word lists, frames and idiom patterns.

A relation file (``ontology/relations/<property>.json``) declares

* ``lexicon``: named word lists, used as ``"@name"`` anywhere below;
* ``frames``: trigger words by part of speech and the roles they take. A
  frame says *which* syntactic slots fill each role (``subject``, ``object``,
  ``prep:with``, ``poss``, ``compound``, ``between`` ...); the argument finder
  (:mod:`newsgraph.arguments`) knows *how* English realises each slot in the
  active and the passive, in relative and reduced relative clauses, in
  nominalisations, appositions and under the copula;
* ``patterns``: spaCy ``DependencyMatcher`` patterns for the idioms a frame
  cannot say.

Unknown keys are an error, so a misspelt key in a data file fails when the
file is loaded rather than silently doing nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import NewsgraphError

#: The syntactic slots a role can list (see :mod:`newsgraph.arguments`).
SLOTS = frozenset({
    "subject",    # the clause's subject; in the passive, the by-agent; for a noun, the light verb's or copula's subject
    "object",     # the direct object; in the passive, the subject; the noun a participle or relative clause modifies
    "poss",       # a noun's possessor: "Y's capture of X" (agent), "X's arrest" (patient, when no of-phrase)
    "compound",   # names before a noun: "the Hollis-Kane talks", "the Vostok offensive"
    "appos",      # the name a noun is in apposition to: "Kane, an ally of Hollis"
    "purpose",    # the object of the frame's purpose verbs after a noun: "in talks to buy Y"
    "leader",     # who leads a noun's group: "the coalition led by Y", "the Y-led alliance"
    "antecedent", # for "the arrest of Y" with no agent of its own, the subject of the same event's verb in the
                  # sentence before, when that verb's object names nobody else: "X arrests Y. The arrest of ..."
    "owner",      # for a noun with no owner of its own, the subject of the clause it is the object in:
                  # "X praised old ally Y" is X's ally
})
PREP_SLOT = "prep:"  # "prep:with", "prep:of", "prep:between" ...

_SPEC_KEYS = {"property", "symmetric", "comment", "lexicon", "frames", "patterns", "classes",
              "object_owner_classes", "not_remote", "unless_modifier"}
_FRAME_KEYS = {"name", "pos", "lemmas", "with", "roles", "classes", "light_verbs", "unless", "negating_heads",
               "reciprocal", "multilateral", "full_names", "purpose_verbs", "adjunct_preps", "comment"}
_WITH_KEYS = {"dep", "lemmas"}
_PATTERN_KEYS = {"rule", "subject", "subject_deps", "object_classes", "reciprocal", "hyphen_before_trigger",
                 "object_owner_classes", "unless", "negating_heads", "pattern", "comment"}
_ROLES_DIRECTED = ("agent", "patient")
_ROLES_SYMMETRIC = ("party",)
_POS = {"VERB", "NOUN", "ADJ", "PROPN", "AUX"}


@dataclass(frozen=True)
class Companion:
    """A word a multi-word trigger needs beside it: "control" in "take control of", "up" in "team up"."""

    deps: tuple[str, ...]
    lemmas: frozenset[str]


@dataclass(frozen=True)
class Frame:
    """Trigger words of one part of speech and the slots that fill each role."""

    name: str
    prop: str
    pos: frozenset[str]
    lemmas: frozenset[str]
    roles: dict[str, tuple[str, ...]]  # role → slots, in order of preference
    classes: dict[str, tuple[str, ...]]  # role → entity classes it admits
    symmetric: bool
    companion: Companion | None = None
    light_verbs: frozenset[str] = frozenset()  # verbs whose subject takes part in a noun trigger's event
    unless: tuple[dict, ...] = ()  # children of the trigger that undo it, as in patterns
    negating_heads: frozenset[str] = frozenset()  # verbs over the trigger that undo it: "the alliance ... collapsed"
    #: whether one slot naming every party pairs them up: "X and Y met", but not "X and Y stood" (alongside whom?)
    reciprocal: bool = True
    #: whether a noun trigger's subject of three or more names pairs them all: "X, Y and Z formed an alliance";
    #: "X, Y and Z were in talks" does not say who talked with whom
    multilateral: bool = False
    #: whether a one-word person needs a full name in the document: the model reads many towns as people
    full_names: bool = False
    purpose_verbs: frozenset[str] = frozenset()  # "talks to buy Y": verbs whose object fills the purpose slot
    #: prepositions that make a noun trigger an adjunct of any clause, whose subject then takes part:
    #: "X attacked the town in alliance with Y", "X rejoined the cabinet under a pact with Y"
    adjunct_preps: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RelationSpec:
    """One relation file, checked."""

    prop: str
    symmetric: bool
    lexicon: dict[str, list[str]]
    frames: tuple[Frame, ...]
    patterns: tuple[dict, ...]
    not_remote: bool = False
    #: trigger lemma → modifiers that undo it: "trading partners" are not allies
    unless_modifier: dict[str, frozenset[str]] = field(default_factory=dict)
    object_owner_classes: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _check_keys(where: str, got: dict, allowed: set[str]) -> None:
    unknown = sorted(set(got) - allowed)
    if unknown:
        raise NewsgraphError(f"{where}: unknown key '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}")


def words(value: Any, lexicon: dict[str, list[str]], where: str) -> list[str]:
    """A word list given inline or as ``"@name"`` of the relation's lexicon."""
    if isinstance(value, str) and value.startswith("@"):
        try:
            return list(lexicon[value[1:]])
        except KeyError:
            raise NewsgraphError(f"{where}: unknown word list '{value}'") from None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        out: list[str] = []
        for v in value:
            out += words(v, lexicon, where) if v.startswith("@") else [v]
        return out
    raise NewsgraphError(f"{where}: expected a word list or '@name', got {value!r}")


def unless_entries(value: Any, lexicon: dict[str, list[str]], where: str) -> tuple[dict, ...]:
    """``unless`` entries with their ``"@name"`` word lists filled in (``LOWER``, ``LEMMA``, nested ``HAS``)."""
    if not isinstance(value, list):
        raise NewsgraphError(f"{where}: 'unless' must be a list of entries")

    def fill(entry: Any) -> dict:
        if not isinstance(entry, dict):
            raise NewsgraphError(f"{where}: an 'unless' entry must be an object, got {entry!r}")
        _check_keys(where + " unless", entry, {"DEP", "LOWER", "LEMMA", "ENT_TYPE", "HAS", "NODE"})
        out = dict(entry)
        for key in ("LOWER", "LEMMA", "ENT_TYPE"):
            if key in out:
                out[key] = words(out[key], lexicon, where)
        if "HAS" in out:
            out["HAS"] = fill(out["HAS"])
        return out

    return tuple(fill(e) for e in value)


def parse_spec(raw: dict[str, Any], source: str, classes: frozenset[str]) -> RelationSpec:
    """Check one relation file and turn it into a :class:`RelationSpec`."""
    _check_keys(source, raw, _SPEC_KEYS)
    prop = raw.get("property")
    if not isinstance(prop, str) or not prop:
        raise NewsgraphError(f"{source}: 'property' must name an ontology property")
    symmetric = bool(raw.get("symmetric", False))
    lexicon = raw.get("lexicon", {})
    default_classes = raw.get("classes", {})
    frames = []
    for i, f in enumerate(raw.get("frames", [])):
        where = f"{source}: frame {f.get('name', i)}"
        _check_keys(where, f, _FRAME_KEYS)
        roles_allowed = _ROLES_SYMMETRIC if symmetric else _ROLES_DIRECTED
        roles = f.get("roles", {})
        _check_keys(where + " roles", roles, set(roles_allowed))
        if set(roles) != set(roles_allowed):
            raise NewsgraphError(f"{where}: roles must be {', '.join(roles_allowed)}")
        for role, slots in roles.items():
            for s in slots:
                if s not in SLOTS and not (s.startswith(PREP_SLOT) and len(s) > len(PREP_SLOT)):
                    raise NewsgraphError(f"{where}: unknown slot '{s}' for {role}; choose from "
                                         f"{', '.join(sorted(SLOTS))} or prep:<word>")
        pos = frozenset(words(f.get("pos", ["VERB"]), lexicon, where))
        if not pos <= _POS:
            raise NewsgraphError(f"{where}: unknown part of speech {sorted(pos - _POS)[0]}")
        role_classes = {**default_classes, **f.get("classes", {})}
        for role, cl in role_classes.items():
            if role not in roles_allowed:
                raise NewsgraphError(f"{where}: classes for unknown role '{role}'")
            bad = set(cl) - classes
            if bad:
                raise NewsgraphError(f"{where}: unknown class '{sorted(bad)[0]}'")
        companion = None
        if "with" in f:
            _check_keys(where + " with", f["with"], _WITH_KEYS)
            companion = Companion(deps=tuple(words(f["with"].get("dep", ["dobj"]), lexicon, where)),
                                  lemmas=frozenset(words(f["with"]["lemmas"], lexicon, where)))
        for flag in ("reciprocal", "multilateral", "full_names"):
            if not isinstance(f.get(flag, True), bool):
                raise NewsgraphError(f"{where}: '{flag}' must be true or false, got {f[flag]!r}")
        reciprocal = f.get("reciprocal", True)
        frames.append(Frame(
            name=f"{prop}.{f.get('name', i)}",
            prop=prop,
            pos=pos,
            lemmas=frozenset(words(f["lemmas"], lexicon, where)),
            roles={r: tuple(s) for r, s in roles.items()},
            classes={r: tuple(c) for r, c in role_classes.items()},
            symmetric=symmetric,
            companion=companion,
            light_verbs=frozenset(words(f.get("light_verbs", []), lexicon, where)),
            unless=unless_entries(f.get("unless", []), lexicon, where),
            negating_heads=frozenset(words(f.get("negating_heads", []), lexicon, where)),
            reciprocal=reciprocal,
            multilateral=f.get("multilateral", False),
            full_names=f.get("full_names", False),
            purpose_verbs=frozenset(words(f.get("purpose_verbs", []), lexicon, where)),
            adjunct_preps=frozenset(words(f.get("adjunct_preps", []), lexicon, where)),
        ))
    for p in raw.get("patterns", []):
        _check_keys(f"{source}: pattern {p.get('rule', '?')}", p, _PATTERN_KEYS)
    return RelationSpec(
        prop=prop, symmetric=symmetric, lexicon=lexicon, frames=tuple(frames),
        patterns=tuple(raw.get("patterns", [])), not_remote=bool(raw.get("not_remote", False)),
        unless_modifier={w: frozenset(words(v, lexicon, f"{source}: unless_modifier {w}"))
                         for w, v in raw.get("unless_modifier", {}).items()},
        object_owner_classes=tuple(raw.get("object_owner_classes", [])), raw=raw,
    )
