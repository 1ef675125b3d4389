"""Doc → mentions and relations: the extraction stages, applied in order.

1. **Mentions** (:mod:`newsgraph.mentions`): the names the recognizer found, repaired,
   and the entity mentions any token stands for.
2. **Triggers**: the words of the relation files in ``ontology/relations/``:
   *frames* (a trigger's lemmas by part of speech and the slots that fill its roles,
   :mod:`newsgraph.frames`) and, for idioms, dependency *patterns* matched by
   :class:`newsgraph.depmatch.TreeMatcher` (the same matches as spaCy's
   DependencyMatcher, faster).
3. **Arguments** (:mod:`newsgraph.arguments`): roles onto tokens through the common
   English constructions; here, a pattern's open subject is found (the trigger's
   own, through coordination, control and participles, or a verbless headline's).
4. **Modality and attribution** (:mod:`newsgraph.modality`): polarity, modality and
   who says so.
5. **Relations**: this module joins them, checks the roles' entity classes and
   the relation files' ``unless`` entries, and writes each relation with its evidence.

Only these modules and :mod:`newsgraph.nlp` touch spaCy.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Iterable

from spacy.tokens import Doc, Token

from . import resolve
from .arguments import ArgumentFinder
from .depmatch import TreeMatcher
from .errors import NewsgraphError
from .records import Evidence, Mention, Relation
from .frames import unless_entries, words as frame_words
from .mentions import Mentions
from .modality import Modality
from .resources import lexicon, load_json, relation_frames, relation_specs

# "RAMALLAH, West Bank 1996-08-29 The ...": a line opening with a capitalised place and a date
_DATELINE = re.compile(
    r"(?m)(?:^|(?<=\. ))[ \t]*[A-Z][A-Z'’. -]{1,40}(?:, [A-Z][\w'’.-]{1,30}(?: [A-Z][\w'’.-]{1,30}){0,3})?"
    r"(?: \d{4}-\d\d-\d\d\b| \([A-Z][\w.&/ -]{1,30}\) ?[-–—.])")  # "CITY 1996-08-29", "CITY, Country (Reuters) -"
_CLAUSE_UP = {"xcomp", "pcomp", "advcl", "conj", "prep", "acomp", "attr", "oprd", "dobj", "pobj"}
_HEADLINE_SUBJECT = {"amod", "compound", "npadvmod", "nmod"}


@dataclass(frozen=True)
class Rule:
    """One pattern of ``ontology/relations/*.json`` with its settings."""

    name: str
    prop: str
    subject: str  # "auto" | "pattern" | "head" | "none"
    subject_deps: tuple[str, ...]
    object_classes: tuple[str, ...]
    reciprocal: bool
    hyphen_before_trigger: bool
    object_owner_classes: tuple[str, ...] = ()
    unless: tuple[dict, ...] = ()  # children of the trigger (or of "NODE") that block the rule: "took America to war"
    negating_heads: tuple[str, ...] = ()  # verbs over the trigger that undo it: "the alliance between X and Y collapsed"


@dataclass
class Analysis:
    """What :class:`Extractor` finds in one Doc."""

    mentions: list[Mention]
    relations: list[Relation]


def expand_pattern(pattern: list[dict], words: dict[str, list[str]], where: str) -> list[dict]:
    """Replace ``"@name"`` placeholders in a pattern by the relation's word list ``name``."""

    def fill(value):
        if isinstance(value, str) and value.startswith("@"):
            return frame_words(value, words, where)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    return fill(copy.deepcopy(pattern))


def load_rules(vocab) -> tuple[TreeMatcher, dict[str, Rule]]:
    """Compile every relation pattern into one matcher, validated as spaCy's DependencyMatcher validates."""
    matcher = TreeMatcher(vocab, validate=True)
    rules: dict[str, Rule] = {}
    for prop, spec in relation_specs().items():
        for p in spec["patterns"]:
            name = p["rule"]
            pattern = expand_pattern(p["pattern"], spec.get("lexicon", {}), name)
            try:
                matcher.add(name, [pattern])
            except ValueError as e:
                raise NewsgraphError(f"pattern {name} is invalid: {e}") from e
            rules[name] = Rule(
                name=name,
                prop=prop,
                subject=p.get("subject", "auto"),
                subject_deps=tuple(p.get("subject_deps", ["nsubj"])),
                object_classes=tuple(p.get("object_classes", [])),
                reciprocal=bool(p.get("reciprocal", False)),
                hyphen_before_trigger=bool(p.get("hyphen_before_trigger", False)),
                object_owner_classes=tuple(p.get("object_owner_classes", spec.get("object_owner_classes", []))),
                unless=unless_entries(p.get("unless", []), spec.get("lexicon", {}), name),
                negating_heads=tuple(expand_pattern([p.get("negating_heads", [])], spec.get("lexicon", {}), name)[0]),
            )
    return matcher, rules


class Extractor:
    """Finds mentions and relations in parsed Docs.

    >>> ex = Extractor(nlp)          # doctest: +SKIP
    >>> ex(nlp("Rebels captured Kobani.")).relations[0].prop   # doctest: +SKIP
    'captured'
    """

    def __init__(self, nlp):
        self.lex = lexicon()
        self.labels: dict[str, str] = self.lex["entity_labels"]
        self.matcher, self.rules = load_rules(nlp.vocab)
        self.specs = relation_frames()
        self.frames: dict[str, list] = {}  # trigger lemma → frames
        self.frame_rules: dict[str, Rule] = {}
        for spec in self.specs.values():
            for frame in spec.frames:
                for lemma in frame.lemmas:
                    self.frames.setdefault(lemma, []).append(frame)
                self.frame_rules[frame.name] = Rule(
                    name=frame.name, prop=frame.prop, subject="frame", subject_deps=(), object_classes=(),
                    reciprocal=False, hyphen_before_trigger=False, unless=frame.unless,
                    negating_heads=tuple(frame.negating_heads))
        self.rules_owner_classes = {p: s.object_owner_classes for p, s in self.specs.items()}
        self.group_nouns = set(self.lex["group_nouns"])
        self.state_forces = set(self.lex["state_force_nouns"])
        self.place_nouns = set(self.lex["place_nouns"])
        self.titles = set(self.lex["titles"])
        self.facilities = set(self.lex["facility_heads"])
        self.org_words = set(self.lex["organization_words"])
        self.unnamed_actors = set(self.lex["unnamed_actors"])
        demonyms = load_json("demonyms.json")
        self.nationalities: dict[str, str] = demonyms["adjectives"]
        self.nationals = set(demonyms["people"])

    def __call__(self, doc: Doc, text: str | None = None) -> Analysis:
        """Analyse a parsed Doc; ``text`` is the original text when the Doc was parsed from a prepared copy."""
        return _DocExtraction(self, doc, text).run()


class _DocExtraction(Mentions, Modality):
    """The state of extracting one Doc: its mentions and the token index."""

    def __init__(self, ex: Extractor, doc: Doc, text: str | None):
        self.ex = ex
        self.lex = ex.lex
        self.doc = doc
        self.text = doc.text if text is None else text
        self.sents = list(doc.sents)
        self.sent_index = {s.start: i for i, s in enumerate(self.sents)}
        self.by_token: dict[int, Mention] = {}
        self.extra: list[Mention] = []  # names found in argument slots, missed by the recognizer
        self._pronoun_cache: dict[int, list[Mention]] = {}
        self._places_named: list[str] | None = None  # one-word places the article names, for its own demonyms
        self.surnames: set[str] = set()  # of the people named in full
        self.dateline: set[int] = set()  # tokens of "RAMALLAH, West Bank 1996-08-29": never arguments

    def run(self) -> Analysis:
        mentions = resolve.harmonize(list(self._ner_mentions()) + list(self._acronym_mentions()))
        mentions = self._places_in_lists(mentions)
        mentions = self._add_repeats(mentions)
        self.surnames = resolve.surnames(mentions)
        for m in mentions:
            span = self.doc.char_span(m.start, m.end, alignment_mode="expand")
            if span is not None:
                for t in span:
                    self.by_token.setdefault(t.i, m)
        for line in _DATELINE.finditer(self.text):  # a dateline names where it was filed, not who acted
            span = self.doc.char_span(line.start(), line.end(), alignment_mode="expand")
            for t in span if span is not None else ():
                self.by_token.pop(t.i, None)
                self.dateline.add(t.i)
        relations, stated = [], set()
        for r in self._relations():  # one sentence stating a fact twice ("formed a partnership") gives it once
            pair = frozenset((r.subject, r.object)) if self.ex.specs[r.prop].symmetric else (r.subject, r.object)
            key = (r.prop, pair, r.evidence.start, r.polarity, r.modality)
            if key not in stated:
                stated.add(key)
                relations.append(r)
        everything = set(mentions) | set(self.extra)
        return Analysis(mentions=sorted(everything, key=lambda m: (m.start, m.end)), relations=relations)

    # ------------------------------------------------------------ arguments

    def find_subject(self, trigger: Token, deps: tuple[str, ...]) -> Token | None:
        """The subject of a trigger whose pattern leaves it open."""
        t = trigger
        for _ in range(8):
            for c in t.children:
                if c.i in self.dateline:  # "KASTREL, Zerava 2031-05-02 X held talks": the name after the dateline
                    after = [w for w in c.subtree if w.i not in self.dateline and w.pos_ == "PROPN" and w.dep_ == "appos"]
                    if c.dep_ in ("nsubj", "nsubjpass") and after:
                        return after[0]
                    continue
                if c.dep_ in deps or c.dep_ == "nsubj" or (t != trigger and c.dep_ == "nsubjpass"):
                    return c
            if t.dep_ in ("relcl", "acl", "amod") and t == trigger:
                return t.head
            if t.dep_ == "ROOT" and t.pos_ == "VERB":
                # headlines: "Pakistan arrests key operative" parses Pakistan as a modifier
                for c in t.children:
                    if c.dep_ in _HEADLINE_SUBJECT and c.i < t.i and c.i in self.by_token:
                        return c
            if t.dep_ == "appos":
                return t.head
            if (t.dep_ == "prep" and t.head.dep_ == "ROOT" and t.head.pos_ in ("PROPN", "NOUN") and t.head.i in self.by_token
                    and not any(w.pos_ in ("VERB", "AUX") for w in t.sent)):
                return t.head  # a verbless headline: "Lindqvist in talks with Alvarez"
            if t.dep_ in _CLAUSE_UP and t.head != t:
                if t.dep_ == "dobj" and t != trigger and t.lemma_.lower() not in self.lex["responsibility_nouns"]:
                    return None  # "claimed responsibility for kidnapping X": the claimant did it
                if t.dep_ == "prep" and t.head.lemma_.lower() in self.lex["object_control_verbs"]:
                    # "Poland accused Hungary of siding with Russia": the object does the siding
                    for c in t.head.children:
                        if c.dep_ in ("dobj", "obj"):
                            return c
                t = t.head
                continue
            return None
        return None

    # ------------------------------------------------------------ relations

    def _relations(self) -> Iterable[Relation]:
        seen: set[tuple] = set()
        matches = self.ex.matcher(self.doc)
        for match_id, token_ids in matches:
            rule = self.ex.rules[self.doc.vocab.strings[match_id]]
            spec = self.ex.matcher.get(self.doc.vocab.strings[match_id])[1][0]
            nodes = {node["RIGHT_ID"]: self.doc[i] for node, i in zip(spec, token_ids)}
            trigger = nodes["trigger"]
            if rule.hyphen_before_trigger and not (trigger.i > 0 and self.doc[trigger.i - 1].text in "-‐‑–"):
                continue
            context = [t for name, t in nodes.items() if name not in ("subject", "object")]
            if self._trigger_blocked(rule.prop, trigger, context, rule.unless, nodes):
                continue
            for subj_m, obj_m in self._argument_pairs(rule, nodes, trigger):
                relation = self._emit(rule, trigger, nodes, subj_m, obj_m, seen, (), rule.object_classes)
                if relation is not None:
                    yield relation
        yield from self._frame_relations(seen)

    def _trigger_blocked(self, prop: str, trigger: Token, context: list[Token], unless: tuple[dict, ...],
                         nodes: dict[str, Token]) -> bool:
        """Whether a trigger cannot state the relation here: "by phone", "meets X in the final", "trading partners"."""
        spec = self.ex.specs[prop]
        if spec.not_remote and any(self._remote(t) for t in context):
            return True
        if any(_blocks(c, u) for u in unless for c in nodes[u.get("NODE", "trigger")].children):
            return True
        for word in dict.fromkeys([trigger, *context]):
            blocking = spec.unless_modifier.get(word.lemma_.lower()) or spec.unless_modifier.get(word.lower_)
            if blocking and any(c.dep_ in ("amod", "compound", "nmod") and (c.lemma_.lower() in blocking or c.lower_ in blocking)
                                for c in word.children):
                return True  # a "coalition partner" is an ally; a "trading partner" is not
        return False

    def _emit(self, rule: Rule, trigger: Token, nodes: dict[str, Token], subj_m: Mention, obj_m: Mention,
              seen: set[tuple], subject_classes: tuple[str, ...], object_classes: tuple[str, ...]) -> Relation | None:
        """The relation for one argument pair, unless it is a self-relation, of the wrong classes or a repeat."""
        if subj_m == obj_m or subj_m.text == obj_m.text:
            return None
        if self.ex.specs[rule.prop].symmetric and (self._facility(subj_m) or self._facility(obj_m)):
            return None  # "X-allied militia shells Y airport": a place of that kind meets or allies with no one
        if subject_classes and not self._admits(subject_classes, subj_m):
            return None
        if object_classes and not self._admits(object_classes, obj_m):
            return None
        key = self._key(rule.prop, subj_m, obj_m, trigger)
        if key in seen:
            return None
        seen.add(key)
        return self._relation(rule, trigger, nodes, subj_m, obj_m)

    def _facility(self, m: Mention) -> bool:
        words = m.text.split()
        return m.cls == "Location" and len(words) > 1 and words[-1].lower() in self.ex.facilities

    def _key(self, prop: str, a: Mention, b: Mention, trigger: Token) -> tuple:
        if self.ex.specs[prop].symmetric:
            return prop, frozenset((a, b)), trigger.i
        return prop, a, b, trigger.i

    def _admits(self, classes: tuple[str, ...], m: Mention) -> bool:
        if "Location" not in classes and self._mistyped_place(m):
            return False  # "visited Bonn": the model's one-word "person" is the gazetteer's city
        return m.cls in classes or ("Location" in classes and self._mistyped_place(m))

    def _frame_relations(self, seen: set[tuple]) -> Iterable[Relation]:
        """Relations the frames find: every trigger word, its roles filled through general syntax."""
        finder = ArgumentFinder(self)
        for tok in self.doc:
            frames = self.ex.frames.get(tok.lemma_.lower()) or self.ex.frames.get(tok.lower_)
            if not frames or tok.i in self.by_token:
                continue
            for frame in frames:
                if tok.pos_ not in frame.pos:
                    continue
                rule = self.ex.frame_rules[frame.name]
                if self._trigger_blocked(frame.prop, tok, [tok], frame.unless, {"trigger": tok}):
                    continue
                comp = finder.companion(frame, tok)
                nodes = {"trigger": tok}
                if comp:
                    nodes["with"] = comp
                role_s, role_o = ("party", "party") if frame.symmetric else ("agent", "patient")
                for subj_m, obj_m in finder.pairs(frame, tok):
                    if frame.full_names and not (self._named_in_full(subj_m) and self._named_in_full(obj_m)):
                        continue  # "visited Jalalabad": the model's lone "person" may be a town
                    relation = self._emit(rule, tok, nodes, subj_m, obj_m, seen,
                                          frame.classes.get(role_s, ()), frame.classes.get(role_o, ()))
                    if relation is not None:
                        yield relation

    def _argument_pairs(self, rule: Rule, nodes: dict[str, Token], trigger: Token):
        if rule.reciprocal:
            group = self.mentions_of(nodes["subject"])
            if len(group) == 1 and trigger.tag_ == "VBP":
                # headline coordination: "Lindqvist, Alvarez hold talks" parses the second name as an apposition
                group += [m for c in nodes["subject"].children if c.dep_ == "appos"
                          for m in [self.by_token.get(c.i)] if m is not None and m.cls == group[0].cls and m != group[0]]
            if rule.subject != "none":  # "X and Y met", but not "X and Y met with Z"
                named = {t.i for t in nodes.values()}
                for node in (t for name, t in nodes.items() if name != "subject"):
                    for c in node.children:
                        if c.i not in named and (c.dep_ in ("dobj", "obj") or (c.dep_ == "prep" and c.lower_ == "with")):
                            return []
            return [(a, b) for i, a in enumerate(group) for b in group[i + 1:]]
        objs = self.mentions_of(nodes["object"], owner_classes=rule.object_owner_classes)
        if not objs:
            return []
        if rule.subject == "pattern":
            subj_tok = nodes.get("subject")
        elif rule.subject == "head":
            subj_tok = trigger.head
        else:
            if any(c.dep_ == "auxpass" for c in trigger.children) and "nsubjpass" not in rule.subject_deps:
                return []
            subj_tok = self.find_subject(trigger, rule.subject_deps)
        if subj_tok is None:
            return []
        subjs = self.mentions_of(subj_tok)
        return [(s, o) for s in subjs for o in objs]

    def _relation(self, rule: Rule, trigger: Token, nodes: dict[str, Token], subj: Mention, obj: Mention) -> Relation:
        sent = trigger.sent
        polarity, modality = self.modality(trigger)
        head = trigger.head.head if trigger.head.pos_ == "ADP" else trigger.head
        if head != trigger and head.lemma_.lower() in rule.negating_heads:
            polarity = "negative"
        words = sorted(
            (t for name, t in nodes.items() if name not in ("subject", "object")), key=lambda t: t.i
        )
        start, end = sent.start_char, sent.end_char
        while end > start and self.text[end - 1].isspace():
            end -= 1
        while start < end and self.text[start].isspace():
            start += 1
        evidence = Evidence(
            sentence=self.text[start:end],
            start=start,
            end=end,
            trigger=" ".join(t.text for t in words),
            rule=rule.name,
        )
        return Relation(
            prop=rule.prop,
            subject=subj,
            object=obj,
            evidence=evidence,
            polarity=polarity,
            modality=modality,
            attributed_to=self.attribution(trigger),
        )


def _blocks(token: Token, spec: dict) -> bool:
    """Whether a child token matches an ``unless`` entry.

    ``{"DEP": "prep", "LOWER": ["in"], "HAS": {"LEMMA": ["final"]}}`` blocks
    "meets X in the final": each key narrows the match, and ``HAS`` asks for a
    child of the token that matches in turn.
    """
    for key, attr in (("DEP", token.dep_), ("LOWER", token.lower_), ("LEMMA", token.lemma_.lower()),
                      ("ENT_TYPE", token.ent_type_)):
        want = spec.get(key)
        if want is not None and attr not in (want if isinstance(want, list) else [want]):
            return False
    has = spec.get("HAS")
    return has is None or any(_blocks(c, has) for c in token.children)
