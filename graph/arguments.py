"""Roles onto tokens: one argument finder for every frame of every relation.

A frame (:mod:`newsgraph.frames`) names slots; this module finds the tokens
that fill each slot of one trigger, through the common English constructions:

* **verbs**: the subject, inherited through coordination, control and
  relative clauses; the direct object; in the passive ("was seized by Y",
  "X, captured by Y", "the town Y captured") the roles swap to the by-agent
  and the passive subject or the modified noun;
* **nouns** ("talks", "capture", "ally"): possessors, names compounded before
  the noun, of-, by-, with- and between-phrases, the subject of a light verb
  ("held talks with") or of the copula ("X is an ally of Y"), and the name the
  noun is in apposition to ("Kane, an ally of Hollis");
* **adjectives** ("loyal to", "allied with"): the copula's subject or the noun
  they modify.

Prepositional phrases are found along short paths, not at one fixed place: a
"between" phrase attached to a neighbouring word ("talks on Thursday between
X and Y") still belongs to the noun. The roles' entity classes are checked by
the caller.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from spacy.tokens import Token

from .frames import PREP_SLOT, Frame

if TYPE_CHECKING:  # the finder works on one document's extraction state
    from .extract import _DocExtraction
    from .records import Mention

_COPULAS = {"be", "remain", "become", "stay", "seem", "appear"}
_NOUNS = {"NOUN", "PROPN"}
OBJECT_DEPS = ("dobj", "obj")  # a verb's direct object, in the model's labels and UD's
_NAME_MODIFIERS = {"compound", "nmod", "amod", "npadvmod", "poss"}


def is_passive(trigger: Token) -> bool:
    """A passive verb: "was seized", "X, captured by Y", "the town captured by Y"."""
    if trigger.pos_ not in ("VERB", "AUX"):
        return False
    if any(c.dep_ in ("auxpass", "nsubjpass") for c in trigger.children):
        return True
    return trigger.tag_ == "VBN" and trigger.dep_ in ("acl", "amod", "advcl") and not any(
        c.dep_ == "aux" for c in trigger.children)


def _preps(host: Token, word: str, deps: tuple[str, ...]) -> list[Token]:
    """``word`` phrases of ``host``, also one coordinated with another of its phrases ("on Monday and with Y")."""
    found = []
    for c in host.children:
        if c.dep_ in deps and c.lower_ == word:
            found.append(c)
        if c.dep_ in deps:
            found += [k for k in c.conjuncts if k.i > c.i and k.pos_ == "ADP" and k.lower_ == word and k not in found]
    return found


def _led_by(lead: Token) -> list[Token]:
    """The leader a form of "lead" names: "led by Y" (a participle), "Y-led" (a hyphenated modifier)."""
    if lead.dep_ == "acl":
        return [p for a in lead.children if a.dep_ == "agent" for p in a.children if p.dep_ == "pobj"]
    return [g for g in lead.children if g.dep_ in ("npadvmod", "compound", "nmod")]


class ArgumentFinder:
    """Fills a frame's slots for one trigger token of one document."""

    def __init__(self, doc: _DocExtraction):
        self.doc = doc

    # ------------------------------------------------------------ slots

    def slot(self, frame: Frame, trigger: Token, companion: Token | None, slot: str) -> list[Token]:
        """The tokens that fill ``slot`` of the trigger (empty when the slot is not realised)."""
        if trigger.pos_ in _NOUNS:
            return self._noun_slot(frame, trigger, companion, slot)
        return self._verb_slot(trigger, companion, slot)

    def _verb_slot(self, trigger: Token, companion: Token | None, slot: str) -> list[Token]:
        passive = is_passive(trigger)
        if slot == "subject":
            if passive:
                return [p for c in trigger.children if c.dep_ == "agent" for p in c.children if p.dep_ == "pobj"]
            found = self.doc.find_subject(trigger, ("nsubj",))
            return [found] if found is not None else []
        if slot == "object":
            if passive:
                subj = [c for c in trigger.children if c.dep_ == "nsubjpass"]
                if subj:
                    return subj
                if trigger.dep_ in ("acl", "amod", "relcl") and trigger.head != trigger:
                    return [trigger.head]  # "the town captured by Y", "X, seized by Y"
                found = self.doc.find_subject(trigger, ("nsubjpass",))
                return [found] if found is not None else []
            objs = [c for c in trigger.children if c.dep_ in OBJECT_DEPS] or self._premodified_object(trigger)
            if objs:
                # "met the envoy to X, Hollis, and the Society": the parser hangs the last object on the verb,
                # a conjunct with no verb or subject of its own
                return objs + [c for c in trigger.children if c.dep_ == "conj" and c.pos_ == "PROPN" and c.i > objs[-1].i
                               and not any(g.dep_ in ("nsubj", "nsubjpass", "aux", "dobj") for g in c.children)]
            if trigger.dep_ == "relcl" and not any(
                    c.dep_ == "nsubj" and c.lower_ in self.doc.lex["relative_pronouns"] for c in trigger.children):
                return [trigger.head]  # "the ridge (that) Arland captured from Tessary"
            return []
        if slot.startswith(PREP_SLOT):
            word = slot[len(PREP_SLOT):]
            hosts = [trigger] + ([companion] if companion is not None else [])
            return [p for h in hosts for c in _preps(h, word, ("prep", "agent")) for p in c.children if p.dep_ == "pobj"]
        return []

    def _premodified_object(self, trigger: Token) -> list[Token]:
        """"met visiting Chancellor X": the parser takes the participle for a verb and X for its object."""
        words = self.doc.lex["premodifying_participles"]
        return [o for c in trigger.children
                if c.i == trigger.i + 1 and c.tag_ in ("VBG", "VBN") and c.lemma_.lower() in words
                and not any(g.dep_ in ("nsubj", "nsubjpass", "aux", "auxpass") for g in c.children)
                for o in c.children if o.dep_ in OBJECT_DEPS and o.pos_ == "PROPN"]

    def _noun_slot(self, frame: Frame, trigger: Token, companion: Token | None, slot: str) -> list[Token]:
        if slot == "subject":
            return self._noun_subject(frame, trigger)
        if slot == "poss":
            own = [c for c in trigger.children if c.dep_ == "poss"]
            if own or trigger.dep_ != "conj" or trigger.head.pos_ not in _NOUNS or any(
                    c.dep_ == "det" for c in trigger.children):
                return own
            # "X's rights record and detention of Y": one possessive over both nouns, when the second has no
            # determiner of its own ("X's record and the detention of Y" leaves the detention's agent unsaid)
            return [c for c in trigger.head.children if c.dep_ == "poss"]
        if slot == "compound":
            return [t for c in trigger.children if c.dep_ in _NAME_MODIFIERS - {"poss"} and c.i < trigger.i
                    for t in c.subtree if t.i in self.doc.by_token or t.ent_type_ == "NORP"]
        if slot == "appos":
            if trigger.dep_ == "appos" and trigger.head != trigger:
                return [trigger.head]
            if trigger.dep_ == "compound" and trigger.head.pos_ == "PROPN" and trigger.head.i in self.doc.by_token:
                return [trigger.head]  # "old ally Y" parsed as one name
            after = self._name_after(trigger)
            if after is not None:
                return [after]
            named = [c for c in trigger.children if c.pos_ == "PROPN" and c.i > trigger.i and (
                c.dep_ == "appos" or (c.dep_ == "conj" and trigger.tag_ == "NNS" and trigger.nbor(1).text == ","))]
            # "its two coalition partners, the X and the Y": a plural noun's list, parsed as conjuncts
            if named and trigger.dep_ in ("conj", "nsubj", "nsubjpass", "dobj", "pobj"):
                return named  # "X and its ally Y": the noun's own name beside it
            if trigger.dep_ == "attr" and trigger.head.lemma_ in _COPULAS:  # "X is an ally of Y"
                return [c for c in trigger.head.children if c.dep_ in ("nsubj", "nsubjpass")]
            return []
        if slot == "object":
            hosts = [trigger] + ([trigger.head] if trigger.dep_ == "conj" and trigger.head.pos_ in _NOUNS else [])
            return [p for h in hosts for c in h.children if c.dep_ == "prep" and c.lower_ == "of" and (
                h is trigger or c.i > trigger.i) for p in c.children if p.dep_ == "pobj"]
        if slot == "purpose":  # "in talks to buy Y", "talks to take over Y"
            return [o for c in trigger.children if c.dep_ in ("acl", "relcl") and c.lemma_.lower() in frame.purpose_verbs
                    and any(a.dep_ == "aux" and a.lower_ == "to" for a in c.children)
                    for o in c.children if o.dep_ in OBJECT_DEPS]
        if slot == "leader":
            return [g for c in trigger.children if c.lemma_.lower() == "lead" and c.dep_ in ("acl", "amod")
                    for g in _led_by(c)]
        if slot == "owner":
            return self._clause_owner(trigger)
        if slot == "antecedent":
            return self._antecedent_agent(frame, trigger)
        if slot.startswith(PREP_SLOT):
            return self._noun_prep(frame, trigger, companion, slot[len(PREP_SLOT):])
        return []

    def _noun_subject(self, frame: Frame, trigger: Token) -> list[Token]:
        """Who takes part in a noun's event through the verb that governs it."""
        head = trigger.head
        if head == trigger:
            return []
        if trigger.dep_ in OBJECT_DEPS and head.pos_ in ("VERB", "AUX") and head.lemma_.lower() in frame.light_verbs:
            found = self.doc.find_subject(head, ("nsubj",))  # "X held talks with Y", "X launched an attack on Y"
            return [found] if found is not None else []
        if trigger.dep_ == "pobj" and head.lower_ in ("in", "into", "under") and head.head != head:
            verb = head.head  # "X is in talks with Y", "X entered into an alliance with Y"
            if verb.pos_ in ("VERB", "AUX") and (verb.lemma_ in _COPULAS or verb.lemma_.lower() in frame.light_verbs):
                found = self.doc.find_subject(verb, ("nsubj",))
                return [found] if found is not None else []
            if verb.pos_ == "PROPN" and verb.dep_ == "ROOT" and head.i == verb.i + 1:
                return [verb]  # a headline without its verb: "X in talks to buy Y"
        if trigger.dep_ == "pobj" and head.dep_ == "prep" and head.lower_ in frame.adjunct_preps:
            verb = head.head  # "X attacked the town in alliance with Y"; the parser may hang it on the object
            if verb.pos_ in _NOUNS and verb.dep_ in OBJECT_DEPS:
                verb = verb.head
            if verb.pos_ in ("VERB", "AUX"):
                found = self.doc.find_subject(verb, ("nsubj",))
                return [found] if found is not None else []
        if trigger.dep_ == "pobj" and head.lower_ == "for" and head.head != head and frame.light_verbs:
            host = head.head  # "X, in Olinsk for talks with Y, said ...", "X was in Olinsk for talks with Y"
            if host.pos_ == "PROPN" and host.i in self.doc.by_token and any(
                    c.dep_ == "prep" and c.i < head.i for c in host.children):
                return [host]
            if host.pos_ in ("VERB", "AUX") and host.lemma_ in _COPULAS:
                found = self.doc.find_subject(host, ("nsubj",))
                return [found] if found is not None else []
        if trigger.dep_ == "attr" and head.lemma_ in _COPULAS:  # "X and Y are allies"
            return [c for c in head.children if c.dep_ == "nsubj"]
        if trigger.dep_ == "pobj" and head.lower_ == "of" and head.head.lemma_.lower() in self.doc.lex["member_nouns"]:
            return self._member(head.head)  # "X is a member of the coalition led by Y"
        if trigger.dep_ == "compound" and head.lemma_.lower() in self.doc.lex["member_nouns"]:
            return self._member(head)  # "coalition member X"
        return []

    def _clause_owner(self, trigger: Token) -> list[Token]:
        """"X praised old ally Y", "X seeks a pact with key ally Y": a bare noun naming Y is the clause subject's.

        Only for a noun with no owner of its own (no possessive, no name or
        of- or to-phrase on it, no "the"), that names someone beside it, and that
        is the object of the clause, directly or through one prepositional phrase.
        """
        if any(c.dep_ in ("poss", "prep") or (c.dep_ == "det" and c.lower_ not in ("a", "an"))
               or (c.dep_ in _NAME_MODIFIERS and c.i < trigger.i and (c.i in self.doc.by_token or c.ent_type_ == "NORP"))
               for c in trigger.children):
            return []
        if trigger.dep_ == "compound" and trigger.head.pos_ == "PROPN" and trigger.head.i in self.doc.by_token:
            top = trigger.head  # "ally Y" parsed as one name
        elif any(c.dep_ == "appos" and c.pos_ == "PROPN" for c in trigger.children) or self._name_after(trigger):
            top = trigger
        else:
            return []
        if top.dep_ == "pobj" and top.head.dep_ == "prep":
            top = top.head.head  # "a pact with ally Y": the noun the phrase belongs to
            if top.pos_ in _NOUNS and top.dep_ == "pobj" or top.pos_ not in _NOUNS | {"VERB"}:
                return []
        verb = top.head if top.dep_ in OBJECT_DEPS else (top if top.pos_ == "VERB" else None)
        if verb is None or verb.pos_ != "VERB" or is_passive(verb):
            return []
        return [c for c in verb.children if c.dep_ == "nsubj"]

    def _antecedent_agent(self, frame: Frame, trigger: Token) -> list[Token]:
        """"U.S. troops arrest Iraqi commander. The arrest of a commander of X ...": the verb's subject before.

        The sentence before must use the same event's verb, right after a name
        (read in word order: headlines are often mis-parsed), and name no other
        patient after it.
        """
        verb = self.doc.lex["event_verbs"].get(trigger.lemma_.lower())
        if verb is None or not any(c.dep_ == "det" and c.lower_ == "the" for c in trigger.children):
            return []
        doc = self.doc
        s = doc._sentence_of(trigger)
        if s == 0:
            return []
        forms = {verb, verb + "s", verb + "es", verb + "ed", verb + "d", verb + verb[-1] + "ed"}
        mine = {m for t in self._noun_slot(frame, trigger, None, "object") for m in doc.mentions_of(t)}
        sent = doc.sents[s - 1]
        for t in sent:
            if t.lower_ not in forms or t.i == sent.start:
                continue
            before = doc.by_token.get(t.i - 1)
            if before is None:
                return []
            after = {m for w in doc.doc[t.i + 1:sent.end] for m in [doc.by_token.get(w.i)] if m is not None}
            if after - mine:
                return []  # "X arrested Z. The arrest of Y ...": another capture
            return [doc.doc[t.i - 1]]
        return []

    def _name_after(self, trigger: Token) -> Token | None:
        """"a pact with old ally Y": the name right after a bare noun, which the parser hung on another word."""
        if trigger.i + 1 >= len(trigger.doc) or any(c.i > trigger.i for c in trigger.children):
            return None
        after = trigger.doc[trigger.i + 1]
        if (after.pos_ == "PROPN" and after.i in self.doc.by_token and after.head != trigger and trigger.head != after
                and after.dep_ in ("npadvmod", "appos", "compound", "nmod") and not after.is_sent_start):
            return after
        return None

    def _member(self, noun: Token) -> list[Token]:
        """Who a membership noun names: "X, a member of ...", "X is a member of ...", "coalition member X"."""
        if noun.dep_ == "appos" and noun.head != noun:
            return [noun.head]
        if noun.dep_ == "attr" and noun.head.lemma_ in _COPULAS:
            return [c for c in noun.head.children if c.dep_ in ("nsubj", "nsubjpass")]
        return [c for c in noun.children if c.dep_ == "appos"]

    def _noun_prep(self, frame: Frame, trigger: Token, companion: Token | None, word: str) -> list[Token]:
        """Objects of ``word`` phrases that belong to a noun, also when the parser hung them nearby."""
        hosts = [trigger] + ([companion] if companion is not None else [])
        if trigger.dep_ == "conj" and trigger.head.pos_ in _NOUNS:
            hosts.append(trigger.head)  # "X's record and detention of Y": the phrase after both hangs on the first
        # one step down: "talks on Thursday between X and Y" hangs "between" on "Thursday"
        for h in list(hosts):
            for c in h.children:
                if c.dep_ == "prep" and c.lower_ != word:
                    hosts += [p for p in c.children if p.dep_ == "pobj" and p.pos_ in _NOUNS and p.ent_type_ in (
                        "DATE", "TIME", "")]
                elif c.dep_ in ("npadvmod", "nmod") and c.ent_type_ in ("DATE", "TIME"):
                    hosts.append(c)
        # one step up: "agreed in talks ... between X and Y" hangs it on the verb, after the noun. A subject or
        # object noun shares only a light verb's phrases ("talks were held on Monday with Y"): in "the ally
        # returned to Z" and "sent an ally to Z", the to-phrase is the verb's own.
        up = trigger.head.head if trigger.dep_ == "pobj" else trigger.head
        if up.pos_ in ("VERB", "AUX") and (trigger.dep_ == "pobj" or (
                trigger.dep_ in ("dobj", "obj", "nsubjpass", "nsubj")
                and (up.lemma_.lower() in frame.light_verbs or up.lemma_ in _COPULAS))):
            hosts.append(up)
        found = []
        for h in hosts:
            for c in _preps(h, word, ("prep",)):
                if h is trigger or c.i > trigger.i:
                    found += [p for p in c.children if p.dep_ == "pobj"]
        return list(dict.fromkeys(found))

    # ------------------------------------------------------------ pairs

    def companion(self, frame: Frame, trigger: Token) -> Token | None | bool:
        """The companion word a multi-word trigger needs; ``False`` when it is missing."""
        if frame.companion is None:
            return None
        for c in trigger.children:
            if c.dep_ in frame.companion.deps and (c.lemma_.lower() in frame.companion.lemmas
                                                    or c.lower_ in frame.companion.lemmas):
                return c
        return False

    def pairs(self, frame: Frame, trigger: Token) -> list[tuple[Mention, Mention]]:
        """(subject, object) mention pairs the frame gives for this trigger."""
        comp = self.companion(frame, trigger)
        if comp is False:
            return []
        comp = comp or None
        if frame.symmetric:
            return self._symmetric(frame, trigger, comp)
        agents = self._role(frame, trigger, comp, "agent")
        if not agents:
            return []
        patients = self._role(frame, trigger, comp, "patient")
        return [(a, p) for a in agents for p in patients if a != p]

    def _role(self, frame: Frame, trigger: Token, comp: Token | None, role: str) -> list[Mention]:
        """The mentions of a directed role: the first of its slots that the sentence realises."""
        slots = frame.roles[role]
        for slot in slots:
            if slot == "poss" and role == "patient" and "poss" in frame.roles.get("agent", ()) and \
                    self.slot(frame, trigger, comp, "object"):
                continue  # "Y's capture of X": with an of-phrase the possessor is the agent
            if slot == "poss" and role == "agent" and not self.slot(frame, trigger, comp, "object") and \
                    "poss" in frame.roles.get("patient", ()):
                continue  # "X's arrest": without one, the possessor is the patient
            if slot == "compound" and role == "agent" and "object" in frame.roles.get("patient", ()) and \
                    not self.slot(frame, trigger, comp, "object"):
                continue  # "the X capture of Y" names the captor; "the X capture" alone does not say who
            toks = self.slot(frame, trigger, comp, slot)
            if toks:
                return self._mentions(toks, frame, role)
        return []

    def _symmetric(self, frame: Frame, trigger: Token, comp: Token | None) -> list[tuple[Mention, Mention]]:
        filled, realised = [], []
        for slot in frame.roles["party"]:
            toks = self.slot(frame, trigger, comp, slot)
            if slot == "poss" and toks and all(t.tag_ == "PRP$" and t.lower_ == "their" for t in toks) and realised:
                continue  # "X and Y extended their partnership": "their" is the subject again
            if toks:
                realised.append(slot)
                mentions = self._mentions(toks, frame, "party")
                if mentions:
                    filled.append(mentions)
        pairs = []
        if len(realised) == 1 and filled:  # "X and Y met", "talks between X and Y": one side names both
            group = filled[0]
            if trigger.pos_ in _NOUNS and realised[0] == "subject" and (len(group) < 2 or len(group) > 2 and not frame.multilateral):
                return []  # "X, Y and Z were in talks": with whom is not said
            if not frame.reciprocal:
                return []  # "X and Y stood together" says not alongside whom
            pairs = [(a, b) for i, a in enumerate(group) for b in group[i + 1:]]
        elif len(realised) > 1:  # "X and Y joined forces with the army": not with each other
            for i, side in enumerate(filled):
                for other in filled[i + 1:]:
                    pairs += [(a, b) for a in side for b in other if a != b]
        return pairs

    def _mentions(self, toks: list[Token], frame: Frame, role: str) -> list[Mention]:
        owners = self.doc.ex.rules_owner_classes.get(frame.prop, ()) if role == "patient" else ()
        found: list[Mention] = []
        for t in toks:
            for m in self.doc.mentions_of(t, owner_classes=owners):
                if m not in found:
                    found.append(m)
        return found
