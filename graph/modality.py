"""Modality: whether the event a trigger names happened, and who says so.

Polarity and modality come from the trigger's clause and the words it depends
on: negation ("not", "never", "no longer", "without", "neither ... nor"),
modal auxiliaries, conditionals, governing verbs ("failed to", "denied",
"claimed to have"), infinitives that have not happened yet unless an
implicative or raising verb says they did ("managed to take", "is said to have
met"), and a present-tense time clause under "will" ("... when X meets Y").
Attribution is the speaker of a reporting clause ("X said").

:class:`Modality` holds these steps for :class:`newsgraph.extract._DocExtraction`.
"""
from __future__ import annotations

from spacy.tokens import Token

from .arguments import OBJECT_DEPS as _OBJECT_DEPS
from .records import Mention

_STRENGTH = {"asserted": 0, "hypothetical": 1, "alleged": 2, "planned": 3, "attempted": 4, "denied": 5}



class Modality:
    """The modality steps of one Doc's extraction (state set by :class:`newsgraph.extract._DocExtraction`)."""

    lex: dict

    def _event_chain(self, trigger: Token) -> list[tuple[Token, str]]:
        """The trigger and the words its event depends on, each with the dependency that led there.

        Nouns ("talks", "capture") depend on the verb that governs them;
        infinitives and gerunds on the verb they complement ("failed to take",
        "denied seizing", "accused X of siding"); coordinated verbs on the
        first one ("will visit X and meet Y").
        """
        governing = self.lex["governing_verbs"]
        chain = [(trigger, "")]
        t = trigger
        if (t.lemma_.lower() in self.lex["descriptor_nouns"] and t.pos_ == "NOUN"
                and t.dep_ in ("dobj", "obj", "pobj", "compound", "npadvmod")):
            # "X wants a pact with old ally Y", "X did not thank ally Y": the noun describes Y as it is;
            # the verb over it is another event ("X hopes to become an ally" keeps its chain)
            return chain
        if t.pos_ == "ADJ" and t.dep_ == "acomp" and t.head.lemma_ in ("be", "remain", "become", "stay"):
            t = t.head  # "would be loyal to Y": the copula carries the clause's tense and mood
            chain.append((t, "acomp"))
        while t.pos_ in ("NOUN", "PROPN") and t.dep_ in ("dobj", "obj", "nsubjpass", "nsubj", "pobj", "attr") and t.head != t:
            via = t.dep_
            t = t.head
            if t.pos_ == "ADP":
                if any(c.dep_ == "neg" for c in t.children):
                    chain.append((t, via))  # "X not in talks with Y": the negation is on the preposition
                t = t.head
            chain.append((t, via))
        while t.head != t:
            head, via = t.head, t.dep_
            if via == "pcomp" and head.head.lemma_ in governing:
                head = head.head  # the verb over the preposition
            elif (via == "pcomp" and head.head.lemma_.lower() in self.lex["responsibility_nouns"]
                  and head.head.dep_ in ("dobj", "obj")):
                head = head.head.head  # "denied responsibility for kidnapping X": the verb over the claim
            elif via in ("acl", "ccomp") and head.pos_ == "NOUN" and head.lemma_.lower() in self.lex["report_nouns"]:
                chain.append((head, "report"))  # "reports that X met Y": hearsay; "denied reports that ...": denied
                if head.dep_ not in ("dobj", "obj", "nsubjpass") or head.head == head:
                    break
                t, head, via = head, head.head, "ccomp"
            elif not (via in ("xcomp", "conj") or (via == "dobj" and t.tag_ == "VBG")  # "denied fighting alongside"
                      or (via == "ccomp" and (
                    governing.get(head.lemma_) in ("denied", "alleged", "hypothetical")
                    or head.lemma_ in self.lex["mandative_verbs"]))):  # "recommend that X open talks with Y"
                break
            chain.append((head, via))
            t = head
        return chain

    def modality(self, trigger: Token) -> tuple[str, str]:
        """(polarity, modality) of the event a trigger names."""
        lex = self.lex
        polarity, modality = "positive", "asserted"
        chain = self._event_chain(trigger)
        if any(node.dep_ in ("pobj", "pcomp") and node.head.lower_ == "without" for node, _ in chain):
            polarity = "negative"  # "left without a meeting with Y", "left without meeting Y"
        if any(t.lower_ == "neither" and (t.head == trigger or t.head.head == trigger) for t in trigger.subtree):
            polarity = "negative"  # "allied neither with X nor with Y", "met neither X nor Y"
        for i, (node, via) in enumerate(chain):
            doubted = i and node.lemma_ in ("be", "remain") and any(  # "X's loyalty to Y is (not) in doubt"
                c.dep_ == "prep" and c.lower_ == "in" and any(p.lemma_.lower() in lex["doubt_nouns"] for p in c.children)
                for c in node.children)
            if doubted and not any(c.dep_ == "neg" for c in node.children):
                modality = _stronger(modality, "hypothetical")
            # "X, no longer an ally of Y,": the parser may hang an apposition's negation on the name before it
            beside = [c for c in node.head.children if node.head.i < c.i < node.i] if node.dep_ == "appos" else []
            for c in [*node.children, *beside]:
                low = c.lower_
                negation = (c.dep_ == "neg" or (c.dep_ == "det" and low == "no") or (c.dep_ == "advmod" and low == "never")
                            or (c.dep_ == "advmod" and low in ("longer", "more", "anymore")
                                and any(g.dep_ == "neg" or g.lower_ == "no" for g in c.children)))  # "no longer allied"
                # "did not attack but captured X": the negation is the other verb's; "is not in doubt" affirms it
                if negation and via != "conj" and not doubted:
                    polarity = "negative"
                if c.dep_ in ("aux", "auxpass") and low in lex["modal_aux"]:
                    modality = _stronger(modality, lex["modal_aux"][low])
                if c.dep_ == "mark" and low in lex["conditional_marks"]:
                    modality = _stronger(modality, "hypothetical")
                if c.dep_ in ("amod", "compound", "acl") and low in lex["irrealis_modifiers"]:
                    modality = _stronger(modality, "planned")
                if (i and c.dep_ == "acomp" and node.lemma_ == "be" and chain[i - 1][0].dep_ == "nsubj"
                        and low in lex["planned_complements"]):
                    modality = _stronger(modality, "planned")  # "talks between X and Y are due next week"
                if (c.dep_ in ("amod", "compound", "nmod") and (low in lex["ended_modifiers"] or (
                        low == "time" and any(g.lower_ == "one" for g in c.children)))  # "one-time ally"
                        and node.lemma_.lower() in lex["ended_nouns"]):
                    polarity = "negative"  # "X criticised former ally Y": an alliance that no longer holds
            if i < 2 and self._future_time(node):
                modality = _stronger(modality, "planned")  # "in Olinsk for talks with Y next week"
            if via == "report":
                modality = _stronger(modality, "alleged")
            if i:
                lemma = node.lemma_.lower()
                heads = lex["noun_event_heads"]
                head_modality = heads.get(lemma, heads.get(node.lower_))  # "hoping" is lemmatised "hop"
                complement = via in ("xcomp", "ccomp", "pcomp") or (via == "dobj" and chain[i - 1][0].tag_ == "VBG")
                if lemma == "claim" and any(c.dep_ in _OBJECT_DEPS and c.lemma_.lower() in lex["responsibility_nouns"]
                                            for c in node.children):
                    continue  # "claimed responsibility for kidnapping X" admits the act; "claimed to have taken X" does not
                if node.pos_ in ("VERB", "ADJ", "AUX") and complement and (
                        lemma in lex["governing_verbs"] or lemma in lex["mandative_verbs"]):
                    modality = _stronger(modality, lex["governing_verbs"].get(lemma, "planned"))
                elif trigger.pos_ == "NOUN" and head_modality is not None and not (
                        lemma in lex["done_when_past"] and node.tag_ == "VBD"):  # "talks resumed on Monday" happened
                    modality = _stronger(modality, head_modality)
        # An infinitive has not happened (yet): "Bush to meet Putin", "in a bid to close", "agreed to form";
        # only implicative verbs make it a fact: "managed to take".
        for node, via in chain:
            if node.pos_ in ("NOUN", "PROPN"):
                continue
            if any(c.dep_ == "aux" and c.lower_ == "to" for c in node.children):
                perfect = any(c.dep_ == "aux" and c.lower_ == "have" for c in node.children)  # "claimed to have taken"
                if not (perfect or self._implicative(node) or self._raised(node)):
                    modality = _stronger(modality, "planned")
                break
            if node.dep_ != "conj":
                break
        if trigger.lemma_.lower() in lex["irrealis_modifiers"]:
            modality = _stronger(modality, "planned")
        # English puts a future time clause in the present: "... will top the agenda when X meets Y".
        top = chain[-1][0]
        if (top.dep_ == "advcl" and top.tag_ in ("VBZ", "VBP")
                and any(c.dep_ in ("mark", "advmod") and c.lower_ in lex["time_marks"] for c in top.children)):
            for c in top.head.children:
                if c.dep_ in ("aux", "auxpass") and c.lower_ in lex["modal_aux"]:
                    modality = _stronger(modality, lex["modal_aux"][c.lower_])
        return polarity, modality

    def _future_time(self, node: Token) -> bool:
        """A time phrase on ``node`` that lies ahead: "tomorrow", "next week", "later this month"."""
        words = self.lex["future_times"]
        for c in node.children:
            if c.dep_ not in ("npadvmod", "advmod", "tmod", "obl"):
                continue
            if c.lower_ in ("tomorrow",) or (c.lower_ in ("week", "month", "year", "weekend") and any(
                    g.lower_ in words for g in c.children)):
                return True
        return False

    def _implicative(self, infinitive: Token) -> bool:
        """"managed to take", "went on to fight": the verb over the infinitive says it happened."""
        head = infinitive.head
        if infinitive.dep_ == "xcomp" and head.lemma_.lower() in self.lex["implicative_verbs"]:
            return True
        return (infinitive.dep_ in ("xcomp", "advcl") and head.lemma_.lower() == "go"
                and any(c.dep_ == "prt" and c.lower_ == "on" for c in head.children))

    def _raised(self, infinitive: Token) -> bool:
        """"is said to have met", "proved to be an ally": a report or a state, not a plan."""
        head = infinitive.head
        if infinitive.dep_ != "xcomp":
            return False
        lemma = head.lemma_.lower()
        if lemma in self.lex["raising_verbs"]:  # "seems to be allied", "proved to be a loyal ally"
            return True
        perfect_or_state = infinitive.lemma_.lower() == "be" or any(
            c.dep_ in ("aux", "auxpass") and c.lower_ in ("have", "be") for c in infinitive.children)
        return lemma in self.lex["report_verbs"] and (  # "X said to be in talks" in a headline
            any(c.dep_ == "auxpass" for c in head.children) or perfect_or_state)

    def attribution(self, trigger: Token) -> Mention | None:
        """Who the sentence says reported the event ("X said", "according to X")."""
        for t in trigger.sent:
            if t.lower_ == "according":
                for c in t.children:
                    if c.lower_ == "to":
                        for p in c.children:
                            found = self.mentions_of(p)
                            if found:
                                return found[0]
        t = trigger
        while t.head != t:
            came = t.dep_
            t = t.head
            if t.lemma_ in self.lex["speech_verbs"] and came in ("ccomp", "parataxis", "xcomp"):
                for c in t.children:
                    if c.dep_ == "nsubj":
                        found = self.mentions_of(c)
                        return found[0] if found else None
                return None
        # "X took Y, a resident said": the speech verb hangs off the event.
        for c in trigger.children:
            if c.lemma_ in self.lex["speech_verbs"] and c.dep_ in ("parataxis", "ccomp", "conj"):
                for s in c.children:
                    if s.dep_ == "nsubj":
                        found = self.mentions_of(s)
                        return found[0] if found else None
        return None

    def _remote(self, trigger: Token) -> bool:
        """A phone call or letter is not a meeting."""
        near = list(trigger.subtree) if trigger.pos_ == "NOUN" else list(trigger.children)
        for t in near:
            if t.lower_ in self.lex["remote_modifiers"]:
                return True
            if t.dep_ == "prep" and t.lower_ in ("by", "over", "via", "in", "during", "on"):  # "in a telephone call"
                if any(g.lower_ in self.lex["remote_modifiers"] for g in t.subtree):
                    return True
        return False


def _stronger(a: str, b: str) -> str:
    return a if _STRENGTH[a] >= _STRENGTH[b] else b
