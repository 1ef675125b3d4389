"""Mentions: the names a Doc holds, and the entity mentions an argument token stands for.

The recognizer's entities are repaired first (a title is a role, not part of a
name; "Yahoo and SBC Communications" is two companies; "the Salang highway" is
one place; a Title Case headline keeps only the names its body uses). Then an
argument token of a relation becomes mentions through general English syntax:
the name it is part of, its conjuncts ("captured A and B"), the owner of a
group noun ("CLF forces", "Osman's troops", "rebels led by X", "fighters loyal
to X"), the place a place noun names ("the town of X", "Kandahar, the city
that ..."), a name the recognizer missed ("Mazar-i-Sharif"), or the referent of
a relative pronoun or of an unambiguous pronoun.

:class:`Mentions` holds these steps for :class:`newsgraph.extract._DocExtraction`,
whose state (the Doc, the token → mention index) they share.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

from spacy.tokens import Span, Token

from . import resolve
from .arguments import OBJECT_DEPS as _OBJECT_DEPS
from .records import Mention
from .resources import lexicon

if TYPE_CHECKING:
    from .extract import Extractor

_ACRONYM = re.compile(r"^[A-Z][A-Z.&]{1,9}$")
_MONEY = re.compile(r"[$€£¥]\s?\d|\d[\d,.]*\s?(?:million|billion|bn|m)\b|^\W*\d[\d,.]*\W*$")


class Mentions:
    """The mention steps of one Doc's extraction (state set by :class:`newsgraph.extract._DocExtraction`)."""

    ex: Extractor
    lex: dict
    text: str
    by_token: dict[int, Mention]
    extra: list[Mention]
    surnames: set[str]
    dateline: set[int]

    def _sentence_of(self, token: Token) -> int:
        return self.sent_index.get(token.sent.start, 0)

    def _mention(self, tokens: Span | list[Token], cls: str) -> Mention | None:
        """A mention over tokens, trimmed of determiners, possessive markers and punctuation."""
        toks = list(tokens)
        while toks and (toks[0].lower_ in ("the", "a", "an") or not toks[0].text.strip() or toks[0].is_punct):
            toks = toks[1:]
        while toks and (toks[-1].tag_ == "POS" or toks[-1].lower_ in ("'s", "’s", "'", "and", "or") or toks[-1].is_punct
                        or not toks[-1].text.strip()):  # "Brightway and" is "Brightway"
            toks = toks[:-1]
        if len(toks) > 1 and toks[-1].is_lower and toks[-1].lemma_ in self.lex["group_nouns"] and toks[-2].text[:1].isupper():
            toks = toks[:-1]  # "the Third Way party": the name is "Third Way", "party" says what it names
        if not toks:
            return None
        start, end = toks[0].idx, toks[-1].idx + len(toks[-1].text)
        if not any(ch.isupper() or (ch.isalpha() and not ch.islower()) for ch in self.text[start:end]):
            return None  # names have a capital (or a script without case): not "b>" or "'s"
        if _MONEY.search(self.text[start:end]):
            return None  # "HK$100,000" is an amount, not a name
        return Mention(start, end, self.text[start:end], cls, self._sentence_of(toks[0]))

    def _ner_mentions(self) -> Iterable[Mention]:
        found = list(self._raw_ner_mentions())
        return _drop_headline_noise(found, self.text, self.sents)

    def _raw_ner_mentions(self) -> Iterable[Mention]:
        for ent in self.doc.ents:
            cls = self.ex.labels.get(ent.label_)
            if ent.label_ == "NORP" and ent[-1].text[:1].isupper() and ent[-1].lower_ in self.lex["party_plurals"]:
                cls = "Organization"  # "the Christian Democrats", "the Greens": a party, named as its members
                before = self.doc[ent.start - 1] if ent.start > ent.sent.start else None
                if before is not None and before.dep_ == "compound" and before.head == ent[-1] and before.text.istitle():
                    ent = self.doc[ent.start - 1:ent.end]  # the recognizer's "Christian" + "Democrats"
            words = [t.lemma_.lower() for t in ent if t.is_alpha]
            if words and ent[0].text[:1].isupper() and (words[-1] in self.ex.facilities or words[0] in self.ex.facilities):
                cls = "Location"  # "Gate 9", "the Danish Embassy": named facilities are places
            root = ent.root
            after = self.doc[ent.end] if ent.end < len(self.doc) else None
            if (after is not None and cls in ("Person", "Organization") and root.dep_ == "compound" and root.head == after
                    and after.pos_ == "NOUN" and after.text.islower() and after.lemma_.lower() in (
                        self.ex.facilities if cls == "Person" else self.lex["route_heads"])):
                ent, cls = self.doc[ent.start:ent.end + 1], "Location"  # "the Salang highway", "the Kajaki dam"
            first = root
            while first.dep_ == "conj" and first.head != first:
                first = first.head
            if (first.dep_ == "pobj" and first.head.lower_ == "of" and first.head.head.pos_ == "NOUN"
                    and first.head.head.lemma_.lower() in self.ex.place_nouns):
                cls = "Location"  # "the town of Bir Hakim", "the towns of X and Y"
            if first.dep_ == "pobj" and first.head.lower_ == "at" and first.head.i > 0 and cls == "Person" and any(
                    w.lemma_.lower() in sites or w.lower_ in sites
                    for w in (first.head.head, self.doc[first.head.i - 1]) for sites in (self.ex.facilities, self.lex["site_nouns"])):
                cls = "Location"  # "army posts at Ban Thoc", "the barracks at Gornji Dol": a facility's place
            if cls is not None and any(c.dep_ == "appos" and c.pos_ == "NOUN" and c.lemma_.lower() in self.ex.place_nouns
                                       and c.lemma_.lower() not in self.ex.group_nouns for c in root.children):
                cls = "Location"  # "Velmora, the city that ..."
            if cls is None:
                continue
            # "Osman's Coastal Liberation Front" is two names: split at an inner possessive.
            part: list[Token] = []
            parts: list[list[Token]] = []
            ent = self._without_caps_dateline(ent)
            ent = self._without_headline_verb(ent)
            if len(ent) > 2 and ent[1].text in "-–" and ent[0].lower_ in self.lex["headline_tags"]:
                ent = ent[2:]  # "Basketball-Meiyang Tigers beat ...": a wire headline's topic tag
            while (ent.end < len(self.doc) and ent[-1].lower_ in self.lex["name_particles"] and ent[-1].whitespace_
                   and self.doc[ent.end].pos_ == "PROPN" and self.doc[ent.end].text[:1].isupper()):
                ent = self.doc[ent.start:ent.end + 1]  # "Hamadou Ag | Khalil": a name does not end in a particle
            if cls == "Person":
                ent = self._whole_person_name(ent)
            if cls == "Person" and len(ent) > 1 and ent[-1].lower_ in self.ex.org_words:
                cls = "Organization"  # "the Tarsk Brigades", "Halden Guard": a body, not a person
            split_at_and = self._two_names(ent, cls)
            for t in ent:
                if t.i in split_at_and:
                    if part:  # "Yahoo and SBC Communications": two companies the recognizer ran together
                        parts.append(part)
                    part = []
                elif t.pos_ in ("VERB", "AUX") and t.text.islower():
                    if part:  # "Marrowfield Front detained Ansel Korrin": a verb ends a name the recognizer ran on
                        parts.append(part)
                    part = []
                elif t.pos_ == "ADP" and t.lower_ in self.lex["name_breaking_preps"] and t.text.islower():
                    if part:  # "the Osprey Battalion near Omri": a place phrase ends the name
                        parts.append(part)
                    part = []
                elif (t.tag_ == "POS" or t.lower_ in ("'s", "’s")) and not (
                        part and part[-1].lower_ in self.lex["possessive_name_words"]):  # "Sudan People's Liberation Army"
                    if part:
                        parts.append(part + [t])
                    part = []
                else:
                    part.append(t)
            if part:
                parts.append(part)
            before = self.doc[ent.start - 1] if ent.start > 0 else None
            title = ""
            if (cls in ("Person", "Organization") and before is not None and before.text.istitle()
                    and before.lemma_.lower() in self.ex.titles
                    and (cls == "Person" or (len(ent) == 1 and before.lower_ in self.lex["person_titles"]))):
                title = before.text  # "Envoy Lindqvist": a title before a name makes it a person's
                cls = "Person"
            if cls in ("Person", "Organization") and len(parts) == 1:
                # "Envoy Lindqvist", "Foreign Minister Berg": a title is the person's role, not part of the name
                words = parts[0]
                k = 0
                while k < len(words) - 1 and words[k].text[:1].isupper() and (
                        words[k].lower_.strip(".") in self.ex.titles or words[k].text in self.ex.nationals):
                    k += 1  # "Frenchman Luc Garnier": a national's noun is no more part of the name than a title
                if k and words[k].text[:1].isupper() and (
                        cls == "Person" or self._titled_person(words[k - 1], words[k:], cls)):
                    title = " ".join(w.text for w in words[:k])
                    parts = [words[k:]]
                    cls = "Person"
            adjective = ent.text in self.ex.nationalities and self.ex.nationalities[ent.text] != ent.text  # not "Myanmar"
            if ent.text in self.ex.nationals or adjective or (len(ent) == 1 and self._unnamed(ent[0])) or (
                    len(ent) == 2 and ent[0].text in self.ex.nationalities and self._unnamed(ent[1])):
                continue  # "a Briton", "Kidnappers", "Afghan Militants": people, not named actors
            for p in parts:
                m = self._mention(p, cls)
                if m is not None:
                    yield replace(m, title=title) if title and len(parts) == 1 else m

    def _titled_person(self, title: Token, rest: list[Token], cls: str) -> bool:
        """Whether a title before a name the recognizer typed otherwise makes it a person's: "Envoy Lindqvist",
        "Archbishop Renata Solvik", but not "Cardinal Health" or "Imam Ali Mosque"."""
        word = title.lower_.strip(".")
        if word in self.lex["person_titles"] and len(rest) == 1:
            return True
        return (word in self.lex["person_titles"] or word in self.lex["rank_titles"]) and resolve.person_like(
            Mention(0, 0, " ".join(w.text for w in rest), cls, 0))

    def _whole_person_name(self, ent: Span) -> Span:
        """A person's name the recognizer cut short, when the parser still reads it as one noun phrase:
        "Mehmet [Sirin Aydogan]", "[Abdul-Karim] al-Majali". Only proper nouns no entity claims, no title."""
        doc = self.doc
        start, end = ent.start, ent.end
        while start > ent.sent.start and start > 0:
            t = doc[start - 1]
            if not (t.pos_ == "PROPN" and t.dep_ == "compound" and start <= t.head.i < end and not t.ent_type_
                    and t.text.istitle() and t.is_alpha and t.lower_.strip(".") not in self.ex.titles
                    and t.whitespace_ and not self._in_headline(t)):
                break
            start -= 1
        head = doc[end - 1].head
        if doc[end - 1].dep_ == "compound" and head.i >= end and head.i - end < 4 and head.pos_ == "PROPN" and (
                head.ent_type_ in ("", "PERSON")) and head.text[:1].isupper():
            between = doc[end:head.i + 1]
            if all(t.text == "-" or (t.pos_ == "PROPN" and (t.head == head or t == head) and not t.ent_type_ in ("ORG", "GPE", "LOC", "NORP"))
                   for t in between) and (between[0].lower_ in self.lex["name_particles"] or between[0].text[:1].isupper()):
                end = head.i + 1
        return doc[start:end] if (start, end) != (ent.start, ent.end) else ent

    def _two_names(self, ent: Span, cls: str | None) -> set[int]:
        """The "and" tokens that join two names the recognizer ran into one.

        Two people are never one name, so "Hallam Pryce and Noor Emberly"
        splits; an organisation splits only when the text also names each side
        on its own ("Yahoo and SBC Communications" beside "Yahoo ... SBC"),
        so "Procter and Gamble" stays one company.
        """
        joins = [t for t in ent[1:-1] if t.lower_ == "and" and t.dep_ == "cc"]
        if len(joins) != 1 or cls not in ("Person", "Organization"):
            return set()
        left, right = ent[:joins[0].i - ent.start], ent[joins[0].i - ent.start + 1:]
        if not (left[0].text[:1].isupper() and right[0].text[:1].isupper()):
            return set()
        if cls == "Person":
            return {joins[0].i} if len(left) > 1 and len(right) > 1 else set()
        if all(resolve.person_like(Mention(0, 0, side.text, cls, 0), places=False) for side in (left, right)):
            return {joins[0].i}  # "Hallam Pryce and Noor Emberly" typed as one organisation: two full names
        outside = self.text.replace(ent.text, " ")
        alone = all(re.search(rf"(?<![\w&-])(?<!and )(?<!& ){re.escape(side[0].text)}(?![\w&-])(?! and )(?! & )", outside)
                    for side in (left, right))
        return {joins[0].i} if alone else set()

    def _places_in_lists(self, mentions: list[Mention]) -> list[Mention]:
        """"Chad and Niger": a one-word "person" the gazetteer knows, listed with a place, is a place too."""
        places = resolve.gazetteer()
        located = [(m.start, m.end) for m in mentions if m.cls == "Location"]
        out = []
        for m in mentions:
            if m.cls == "Person" and " " not in m.text and resolve.normalize(m.text) in places:
                span = self.doc.char_span(m.start, m.end)
                tok = span.root if span is not None else None
                listed = [] if tok is None else [tok.head] * (tok.dep_ == "conj") + [c for c in tok.children if c.dep_ == "conj"]
                if any(a <= t.idx < b for t in listed for a, b in located):
                    m = replace(m, cls="Location")
            out.append(m)
        return out

    def _without_headline_verb(self, ent: Span) -> Span:
        """"U.S. Military Arrests an Iraqi ...": a Title Case headline's verb, run into the name before it."""
        last = ent[-1]
        if len(ent) < 2 or not last.text.istitle() or not last.lower_.endswith("s") or not _title_case(last.sent):
            return ent
        low = last.lower_
        for stem in (low[:-1], low[:-2]):
            if any("VERB" in f.pos for f in self.ex.frames.get(stem, ())):
                return ent[:-1]
        return ent

    def _without_caps_dateline(self, ent: Span) -> Span:
        """"SAN ANTONIO SBC Communications": a capitalised dateline place run into the name that follows."""
        if not (ent.start == ent.sent.start or self.doc[ent.start - 1].text.strip() == ""):
            return ent
        for k in range(min(3, len(ent) - 1), 0, -1):
            head = ent[:k]
            if all(t.is_upper and len(t.text) > 1 for t in head) and resolve.normalize(head.text) in resolve.gazetteer():
                return ent[k:]
        return ent

    def _acronym_mentions(self) -> Iterable[Mention]:
        """"Coastal Liberation Front (CLF)": the bracketed acronym is a mention of the same class."""
        for ent in self.doc.ents:
            cls = self.ex.labels.get(ent.label_)
            if ent.label_ == "NORP" and ent[-1].text[:1].isupper() and ent[-1].lower_ in self.lex["party_plurals"]:
                cls = "Organization"  # "the Christian Democrats", "the Greens": a party, named as its members
                before = self.doc[ent.start - 1] if ent.start > ent.sent.start else None
                if before is not None and before.dep_ == "compound" and before.head == ent[-1] and before.text.istitle():
                    ent = self.doc[ent.start - 1:ent.end]  # the recognizer's "Christian" + "Democrats"
            if cls is None or ent.end + 2 >= len(self.doc):
                continue
            open_, acro, close = self.doc[ent.end], self.doc[ent.end + 1], self.doc[ent.end + 2]
            if open_.text == "(" and close.text == ")" and _ACRONYM.match(acro.text) and not acro.ent_type_:
                # "Coastal Liberation Front (CLF)" names the front again; "... Marsa (AFP)" credits an agency
                s, e = acro.idx, acro.idx + len(acro.text)
                own = cls if resolve.abbreviates(acro.text, ent.text) else "Organization"
                yield Mention(s, e, self.text[s:e], own, self._sentence_of(acro))

    def _add_repeats(self, mentions: list[Mention]) -> list[Mention]:
        """Other occurrences of a name already found ("CLF forces" after "(CLF)") are mentions too."""
        names: dict[str, str] = {}
        for m in mentions:
            names.setdefault(m.text, m.cls)
            if m.cls == "Person" and " " in m.text:
                names.setdefault(m.text.split()[-1], "Person")
        covered = set()
        for m in mentions:
            covered.update(range(m.start, m.end))
        pattern = _names_regex(names)
        if pattern is None:
            return mentions
        added = list(mentions)
        for match in pattern.finditer(self.doc.text):
            s, e = match.span()
            if s in covered or (e - 1) in covered:
                continue
            span = self.doc.char_span(s, e)
            if span is None:  # not on token boundaries: "CLF" inside "CLFs"
                continue
            added.append(Mention(s, e, match.group(), names[match.group()], self._sentence_of(span[0])))
            covered.update(range(s, e))
        return added

    def _unnamed(self, tok: Token) -> bool:
        """An unnamed group or person the recognizer took for a name: "Kidnappers", "Police"."""
        low = tok.lower_
        if tok.lemma_.lower() in self.ex.unnamed_actors or low in self.ex.unnamed_actors:
            return True
        if tok.is_sent_start and low in self.lex["force_modifiers"] and tok.head.lemma_.lower() in self.ex.state_forces:
            return True  # "Riot police arrested ...", "Border guards fired ..."
        # a capitalised common noun opening a sentence: "Hijackers who took ..."
        return tok.is_sent_start and tok.tag_ == "NNS" and tok.lower_.endswith("s") and tok.text[1:].islower()

    def _country_of(self, tok: Token) -> tuple[Token, str | None]:
        """The first word and country of a nationality adjective ending at ``tok``: "Turkish", "Sri Lankan"."""
        if tok.text in self.ex.nationalities:
            return tok, self.ex.nationalities[tok.text]
        local = self._local_demonym(tok)
        if local is not None:
            return tok, local
        if tok.i > 0:
            first = self.doc[tok.i - 1]
            return first, self.ex.nationalities.get(f"{first.text} {tok.text}")
        return tok, None

    def _local_demonym(self, tok: Token) -> str | None:
        """"Tigrayan forces" in an article that names Tigray: an adjective the lexicon lacks, formed from a place the
        article names ("-an", "-ian", "-ese", "-i"), when exactly one place fits."""
        word = tok.text
        known = self.by_token.get(tok.i)
        if not (word[:1].isupper() and word[1:].islower() and tok.pos_ in ("ADJ", "PROPN", "NOUN")
                and (known is None or known.text == word)):
            return None
        stems = [word[:-len(end)] for end in ("ian", "ese", "an", "i", "n") if word.endswith(end) and len(word) - len(end) >= 4]
        if not stems:
            return None
        if self._places_named is None:
            self._places_named = sorted({m.text for m in self.by_token.values() if m.cls == "Location" and " " not in m.text})
        fits = {p for p in self._places_named for stem in stems if p.startswith(stem) and len(p) - len(stem) <= 3 and p != word}
        return fits.pop() if len(fits) == 1 else None

    def nationality(self, tok: Token) -> list[Mention]:
        """"Turkish forces", "Dutch police": a nationality adjective on a state's force is its country acting."""
        first, country = self._country_of(tok)
        if country is None or tok.dep_ not in ("amod", "compound", "nmod") or tok.i > tok.head.i:
            return []
        if tok.head.lemma_.lower() not in self.ex.state_forces and tok.head.lower_ not in self.ex.state_forces:
            return []  # "Turkish forces" act for Turkey; "Turkish rebels" or "Turkish leaders" do not
        m = self.by_token.get(tok.i)
        if m is None or m.name != country:
            end = tok.idx + len(tok.text)
            m = Mention(first.idx, end, self.text[first.idx:end], "Location", self._sentence_of(tok), name=country)
            self.extra.append(m)
            self.by_token[tok.i] = self.by_token[first.i] = m
        return [m]

    def mentions_of(self, tok: Token, depth: int = 0, owner_classes: tuple[str, ...] = ()) -> list[Mention]:
        """The entity mentions an argument token stands for (with its conjuncts).

        ``owner_classes`` limits what a group of people stands for: the
        captives in "arrested a West Bank leader" are not the West Bank.
        """
        if depth > 4:
            return []
        listed = [c for c in tok.children if c.dep_ == "conj" and c.pos_ == "PROPN"]
        if (listed and tok.tag_ == "NNS" and tok.i + 1 < len(self.doc) and self.doc[tok.i + 1].text == ","
                and tok.lemma_.lower() in self.ex.group_nouns):
            # "Zerava's two main parties, the X and the Y,": the names are the group, not more members beside it
            return list(dict.fromkeys(m for c in listed for m in self.mentions_of(c, depth + 1, owner_classes)))
        named = [c for c in tok.children if c.dep_ == "appos" and c.i > tok.i + 1 and c.pos_ in ("PROPN", "NOUN")]
        if (named and tok.tag_ == "NNS" and self.doc[tok.i + 1].text == "," and tok.lemma_.lower() in self.ex.group_nouns):
            # "Zerava's two main groups, the X and the Y movement,": a list in apposition names the groups
            found = self.mentions_of(named[0], depth + 1, owner_classes)
            if len(found) > 1:
                return found
        found = self._mentions_of_one(tok, depth, owner_classes)
        for c in tok.children:
            if c.dep_ == "conj":
                found += [m for m in self.mentions_of(c, depth + 1, owner_classes) if m not in found]
            elif c.dep_ == "prep" and c.lower_ == "including" and tok.tag_ == "NNS":
                # "arrested 11 leaders of X, including its spokesman, Y": the named members too
                # (a name, or a role with its name beside it; "including the security chief of X" is not X)
                found += [m for p in c.children if p.dep_ == "pobj"
                          for m in (self.mentions_of(p, depth + 1, owner_classes) if p.i in self.by_token
                                    else self._person_beside(p)) if m not in found]
        if found and tok.pos_ == "PROPN":
            found = self._flat_coordination(tok, depth) + [m for m in found]
        return list(dict.fromkeys(found))

    def _flat_coordination(self, tok: Token, depth: int) -> list[Mention]:
        """"Prime Minister Aho and Foreign Minister Berg" parsed as one noun phrase: the names before the last."""
        left = [t for t in tok.subtree if t.i < tok.i]
        if not any(t.dep_ == "cc" and t.lower_ == "and" for t in left):
            return []
        found: list[Mention] = []
        pieces: list[list[Token]] = [[]]
        for t in left:
            if (t.dep_ == "cc" and t.lower_ == "and") or t.text == ",":
                pieces.append([])
            else:
                pieces[-1].append(t)
        for piece in pieces[:-1] if pieces[-1] else pieces:
            if not piece or piece[-1].pos_ != "PROPN":
                return []  # not a list of names: "the Kane and Hollis families" keeps its parse
            found += [m for m in self._mentions_of_one(piece[-1], depth + 1) if m not in found]
        return found

    def _mentions_of_one(self, tok: Token, depth: int, owner_classes: tuple[str, ...] = ()) -> list[Mention]:
        if tok.i in self.dateline or depth > 8:  # owners, appositions and conjuncts can lead in a circle
            return []
        m = self.by_token.get(tok.i)
        if m is not None:
            return [m]
        if self._country_of(tok)[1] is not None:
            return self.nationality(tok)
        low = tok.lower_
        lex = self.lex
        if low in lex["relative_pronouns"] and tok.head.dep_ in ("relcl", "acl"):
            return self._mentions_of_one(tok.head.head, depth + 1, owner_classes)
        if low in lex["person_pronouns"] or low in lex["group_pronouns"]:
            return self.resolve_pronoun(tok)
        if tok.tag_ == "NNS" and tok.lemma_.lower() in lex["pair_nouns"] and any(
                c.dep_ == "nummod" and c.lower_ == "two" for c in tok.children) and any(
                c.dep_ == "det" and c.lower_ == "the" for c in tok.children):
            return self.resolve_pair(tok)
        if tok.tag_ == "VBG" and tok.dep_ in ("pcomp", "amod"):
            # "met with visiting Prime Minister X": the participle is parsed as the head.
            for c in tok.children:
                if c.dep_ == "dobj":
                    return self._mentions_of_one(c, depth + 1, owner_classes)
        lemma = tok.lemma_.lower()
        if tok.pos_ == "PROPN" and tok.is_sent_start and low.endswith("s") and low[:-1] in self.ex.group_nouns:
            lemma = low[:-1]  # "Rebels of the X seized ...": a common noun, capitalised as the sentence opens
        if tok.pos_ == "PROPN" and tok.text[:1].isupper() and any(
                c.dep_ == "compound" and c.i == tok.i - 1 and c.pos_ == "PROPN" and c.text[:1].isupper()
                and c.lower_.strip(".") not in self.ex.titles for c in tok.children):
            named = self._unrecognised_name(tok)  # "the Halden Guard": a name, though "guard" is a group noun
            if named:
                return named
        if lemma in lex["citizen_nouns"] and tok.pos_ == "NOUN":
            # "Kenyan national X", "a Kenyan citizen, X,": the person, never the country
            return [m for c in [tok.head] * (tok.dep_ == "compound") + [c for c in tok.children if c.dep_ == "appos"]
                    for m in [self.by_token.get(c.i)] if m is not None and m.cls == "Person"]
        if lemma in self.ex.group_nouns or low in self.ex.group_nouns or lemma in self.ex.state_forces:
            if tok.dep_ == "appos" and tok.head != tok and tok.head.dep_ != "appos":
                named = self._mentions_of_one(tok.head, depth + 1) if tok.head.pos_ == "PROPN" else [
                    m for m in self._owners(tok.head, depth + 1, besides=tok)]
                if named:
                    return named  # "the ULF, a faction allied to X": the faction is the ULF
            if tok.tag_ == "NN":  # "her counterpart Pedro Alvarez": one person, named beside the role
                named = self._person_beside(tok)
                if named:
                    return named
            owners = self._owners(tok, depth)
            if not owners and not owner_classes:
                owners = self._earlier_force(tok)
            if owner_classes:
                owners = [o for o in owners if o.cls in owner_classes]
            if owners or lemma not in self.ex.titles:
                return owners
        elif lemma in self.ex.place_nouns and tok.pos_ == "NOUN":
            return self._place_itself(tok, depth) or (
                (lemma in self.ex.facilities or low in self.ex.facilities) and self._site(tok, depth)) or self._owners(tok, depth)
        elif (lemma in self.ex.facilities or low in self.ex.facilities) and tok.pos_ == "NOUN":
            named = self._place_itself(tok, depth)  # "the Imam Ali shrine"; "X's plant" is not X
            if named:
                return named
            site = self._site(tok, depth)
            if site:
                return site
        if lemma in lex["site_nouns"] and tok.pos_ == "NOUN":
            site = self._site(tok, depth)  # "overran army posts at X"
            if site:
                return site
        for c in tok.children:
            if c.dep_ == "appos":
                m = self.by_token.get(c.i)
                if m is not None:  # "two aid workers, X and Y,": a plural noun's list names them all
                    return self.mentions_of(c, depth + 1) if tok.tag_ == "NNS" else [m]
        if lemma in self.ex.titles:
            return self._person_beside(tok) or self.resolve_role(tok)
        if tok.pos_ == "PROPN":
            return self._unrecognised_name(tok)
        return []

    def _person_beside(self, role: Token) -> list[Mention]:
        """The person a role noun is in apposition with: "her counterpart, X", also when the parser hangs the
        name on the place after the role ("the envoy to Orlin, X,")."""
        places = [p for c in role.children if c.dep_ == "prep" for p in c.children
                  if p.dep_ == "pobj" and getattr(self.by_token.get(p.i), "cls", "Person") != "Person"]
        for host in (role, *places):
            for c in host.children:
                m = self.by_token.get(c.i) if c.dep_ == "appos" else None
                if m is not None and m.cls == "Person":
                    return [m]
        for c in role.children:  # "X's army chief, General Y, and ...": the apposition parsed as a conjunct
            m = self.by_token.get(c.i) if c.dep_ == "conj" and c.i > role.i else None
            if (m is not None and m.cls == "Person" and c.left_edge.i > 0 and self.doc[c.left_edge.i - 1].text == ","
                    and not any(t.dep_ == "cc" for t in self.doc[role.i:c.left_edge.i])):
                return [m]
        # "talks with the envoy to Orlin, X, and ...": the parser may hang "to Orlin" on another word and X on
        # the place; read the words in order: role, preposition, one place, a comma, a person, a comma or the end
        doc = self.doc
        k = role.i + 1
        if k < len(doc) and doc[k].lower_ in ("to", "for", "in") and doc[k].dep_ == "prep":
            place = self.by_token.get(k + 1)
            if place is not None and place.cls == "Location":
                after = doc.char_span(place.start, place.end, alignment_mode="expand")
                j = after.end if after is not None else len(doc)
                person = self.by_token.get(j + 1) if j < len(doc) and doc[j].text == "," else None
                if person is not None and person.cls == "Person":
                    span = doc.char_span(person.start, person.end, alignment_mode="expand")
                    end = span.end if span is not None else len(doc)
                    if end >= len(doc) or doc[end].text in (",", ".", ";") or doc[end].is_sent_start:
                        return [person]
        return []

    def _unrecognised_name(self, tok: Token, cls: str | None = None) -> list[Mention]:
        """A proper noun in an argument slot that the entity recognizer missed ("Recep Tayyip Erdogan").

        The name is the noun with the proper nouns compounded before it; its
        class is ``cls`` when the caller knows it ("the town of X"), else Location
        for a gazetteer place, Organization when a word of it names a body
        ("State", "Front"), else Person for two or more words and Organization
        for one.
        """
        if tok.ent_type_ not in ("", "PRODUCT", "WORK_OF_ART", "LAW", "EVENT", "NORP") or self._in_headline(tok):
            return []
        if tok.ent_type_ == "NORP" and tok.tag_ != "NNP":
            return []  # "the Kurds", "Shiites": peoples, not named actors; a singular "Samarra" is a mistyped name
        head = tok.head.lemma_.lower()
        if tok.dep_ == "compound" and (head in self.ex.titles or head in self.ex.group_nouns) and not (
                head in self.ex.org_words and tok.head.text.islower() and head not in self.ex.titles):
            return []  # "Prime" in "Prime Minister", "Army" in "Army officers" are not names of their own;
            # "the Sable Hand movement" names the movement
        words = [tok]
        while words[0].i > 0:
            before = self.doc[words[0].i - 1]
            left = self.doc[before.i - 1] if before.i > 0 else before
            # "Mazar-i-Sharif", "Silpa-archa": one name; "the Clinton-Yeltsin summit": two names, both capitalised
            glued = (before.text == "-" and not before.whitespace_ and before.i > 0 and left.is_alpha
                     and not left.whitespace_ and (not (left.text[:1].isupper() and words[0].text[:1].isupper()) or (
                         # "Al-Murra", "Mai-Tembo": a short first part (an article, a particle) is no name of its own
                         left.text.istitle() and len(left) <= 3 and left.i not in self.by_token)))
            if glued and left.i in self.by_token:
                return [self.by_token[left.i]]  # "Jumbish-i-Milli" after "Jumbish": the name already found
            if glued:
                words[:0] = [left, before]
            elif before.dep_ == "compound" and before.head in words and before.pos_ == "PROPN" and before.i not in self.by_token:
                words.insert(0, before)
            else:
                break
        while words[-1].i + 2 < len(self.doc):  # "Hezb-i-Islami" parsed with "Hezb" as its head
            hyphen, right = self.doc[words[-1].i + 1], self.doc[words[-1].i + 2]
            after = self.doc[right.i + 1: right.i + 3]
            connector = (len(right) <= 3 and right.is_lower and len(after) == 2 and after[0].text == "-"
                         and not right.whitespace_ and not after[0].whitespace_ and after[1].text[:1].isupper())
            joins = connector or (right.text[:1].isupper() and words[-1].is_lower)
            if not (hyphen.text == "-" and not words[-1].whitespace_ and not hyphen.whitespace_ and right.is_alpha
                    and right.i not in self.by_token and joins):
                break  # "-i-", "-ul-" join; "Sarvath-allied", "X-led" do not
            words += [hyphen, right]
        titled = False
        while len(words) > 1 and words[0].lower_.strip(".") in self.ex.titles:
            words = words[1:]  # "Prime Minister Aho": the title is a role
            titled = True
        last_is_body = len(words) > 1 and words[-1].lower_ in self.ex.org_words  # "Northern Front": "front" is a stop word
        if not any(w.text[:1].isupper() for w in words) or (words[-1].is_stop and not last_is_body):
            return []
        m = self._mention(words, "Organization")
        if m is None:
            return []
        return [self._add_extra(replace(m, cls=cls or self._name_class(tok, words, m, titled)), words)]

    def _name_class(self, tok: Token, words: list[Token], m: Mention, titled: bool) -> str:
        lowered = [w.lower_ for w in words]
        if titled:
            return "Person"
        if resolve.normalize(m.text) in resolve.gazetteer() or (len(words) > 1 and words[-1].lemma_.lower() in self.ex.facilities):
            return "Location"  # "Ostra Dam": a named facility is a place
        if (any(w in self.ex.org_words for w in lowered) or len(m.text.split()) == 1
                or (tok.dep_ == "compound" and tok.head.lemma_.lower() in self.ex.org_words)):
            return "Organization"  # "the Sable Hand movement"
        return "Person"

    def _add_extra(self, m: Mention, words: list[Token]) -> Mention:
        """Record a name found in an argument slot, with its other occurrences in the text."""
        self.extra.append(m)
        for w in words:
            self.by_token.setdefault(w.i, m)
        self._repeat_extra(m)
        return m

    def _repeat_extra(self, m: Mention) -> None:
        """The other occurrences of a name found in an argument slot are mentions of it too."""
        pattern = _names_regex({m.text: m.cls})
        for match in pattern.finditer(self.text) if pattern is not None else ():
            span = self.doc.char_span(match.start(), match.end())
            if span is None or match.start() == m.start or any(t.i in self.by_token or t.i in self.dateline for t in span):
                continue
            again = Mention(match.start(), match.end(), m.text, m.cls, self._sentence_of(span[0]))
            self.extra.append(again)
            for t in span:
                self.by_token[t.i] = again

    def _in_headline(self, tok: Token) -> bool:
        return self._sentence_of(tok) == 0 and len(self.sents) > 1 and _title_case(self.sents[0])

    def _site(self, facility: Token, depth: int) -> list[Mention]:
        """"overran an army base at X", "seized the posts at X and Y": a facility taken names its place.

        Only the object of a verb, and only "at": "in X" says where the thing stands, not what was taken.
        """
        if facility.dep_ not in _OBJECT_DEPS or facility.head.pos_ != "VERB":
            return []
        at = [p for c in _phrases(facility, "at") for p in c.children if p.dep_ == "pobj"]
        return [m for p in at for m in self.mentions_of(p, depth + 1) if m.cls == "Location"]

    def _place_itself(self, tok: Token, depth: int) -> list[Mention]:
        """The place a place noun names: "the Moslem enclave of Zepa" is Zepa, "the town, Bor," is Bor."""
        words: list[Token] = []
        while tok.i - len(words) > 0:
            c = self.doc[tok.i - 1 - len(words)]
            if c.dep_ != "compound" or c.head not in [tok, *words] or c.pos_ != "PROPN" or c.i in self.by_token or c.ent_type_:
                break
            words.insert(0, c)
        if words and tok.text.islower() and tok.lemma_.lower() in self.ex.facilities:
            m = self._mention(words + [tok], "Location")  # "the Gorran highway": a named road is a place
            if m is not None:
                return [self._add_extra(m, words + [tok])]
        found = []
        if tok.dep_ == "appos" and tok.head.pos_ == "PROPN":  # "Kandahar, the city that X took"
            found += self._mentions_of_one(tok.head, depth + 1)
        elif tok.dep_ == "attr" and tok.head.lemma_ in ("be", "remain"):  # "Kabul is the city X seized"
            found += [m for c in tok.head.children if c.dep_ == "nsubj" and c.pos_ == "PROPN"
                      for m in self._mentions_of_one(c, depth + 1)]
        for c in tok.children:
            names = [p for p in c.children if p.dep_ == "pobj"] if c.dep_ == "prep" and c.lower_ == "of" else \
                [c] if c.dep_ == "appos" else []
            for p in [q for n in names for q in (n, *n.conjuncts)]:  # "the towns of X and Y"
                if p.pos_ == "PROPN" and p.i not in self.by_token and not p.ent_type_:
                    found += self._unrecognised_name(p, cls="Location")  # "the enclave of Dunmara" names a place
                else:
                    found += self._mentions_of_one(p, depth + 1)
        return list(dict.fromkeys(m for m in found if m.cls == "Location"))

    def _owners(self, tok: Token, depth: int, besides: Token | None = None) -> list[Mention]:
        """Who a group noun stands for: "Osman's forces", "CLF fighters", "the village of X"."""
        kids = [c for c in tok.children if c != besides]  # not the apposition that asks
        for c in kids:  # "its EU diplomats": a pronoun owner outranks a descriptive name
            if c.dep_ == "poss" and c.pos_ == "PRON":
                found = self._mentions_of_one(c, depth + 1)
                if found:
                    return found
        for c in kids:  # "US-led forces", "rebels led by X": the leader of the group
            if c.dep_ == "amod" and c.lemma_.lower() == "lead":
                found = [m for g in c.children if g.dep_ in ("npadvmod", "compound", "nmod") for m in self._mentions_of_one(g, depth + 1)]
                if found:
                    return found
            if c.dep_ == "acl" and c.lemma_.lower() == "lead" and c.tag_ == "VBN" and not self.by_token.get(tok.i):
                found = [m for a in c.children if a.dep_ == "agent" for p in a.children if p.dep_ == "pobj"
                         for m in self.mentions_of(p, depth + 1)]
                if found:
                    return found
        # "Osman's CLF forces", "Weber's Green party": the named group before its leader. An "X-allied" or
        # "X-backed" militia is someone else's.
        related = [c for c in kids if c.dep_ == "amod" and c.lemma_.lower() in self.lex["related_modifiers"]]
        theirs = {self.by_token.get(t.i) for a in related for t in a.subtree} - {None}
        for deps in (("compound", "nmod", "amod", "npadvmod"), ("poss",)):
            found = []
            for c in kids:
                if c.dep_ in deps and c.i < tok.i and c not in related and self.by_token.get(c.i, False) not in theirs:
                    found += self._mentions_of_one(c, depth + 1)
            if found:
                return list(dict.fromkeys(found))
        found = []
        if tok.dep_ in _OBJECT_DEPS and tok.head.pos_ == "VERB":  # "received a delegation from X at his home"
            kids = kids + [c for c in _phrases(tok, "from") if c.head != tok]
        for c in kids:
            if c.dep_ == "prep" and c.lower_ == "of":
                found += [m for p in c.children if p.dep_ == "pobj" for m in self.mentions_of(p, depth + 1)]
            elif c.dep_ == "prep" and c.lower_ == "from":
                # "fighters from the X": a group's members; "troops from Kenya": a state's force. People from a
                # place ("fighters from Omri") are not the place acting.
                force = tok.lemma_.lower() in self.ex.state_forces
                found += [m for p in c.children if p.dep_ == "pobj" for m in self.mentions_of(p, depth + 1)
                          if m.cls == "Organization" or (force and m.cls == "Location")]
            elif c.dep_ == "appos":
                found += self._mentions_of_one(c, depth + 1)
        for c in kids if not found else ():  # "militiamen loyal to X", with no group of their own named, are X's
            if c.dep_ == "amod" and c.lower_ in ("loyal", "faithful"):
                found += [m for p in c.children if p.dep_ == "prep" and p.lower_ == "to"
                          for g in p.children if g.dep_ == "pobj" for m in self.mentions_of(g, depth + 1)]
        return list(dict.fromkeys(found))

    def _earlier_force(self, tok: Token) -> list[Mention]:
        """"Zeravan police detained X ... Police detained Y": a bare state force is the one the article named last.

        Only a force noun with nothing of its own (no owner, modifier, phrase or
        apposition), and only the nearest earlier use of the same noun: its
        country, when a nationality or country names it.
        """
        lemma = tok.lemma_.lower()
        if lemma not in self.ex.state_forces or any(not (c.dep_ == "det" and c.lower_ == "the") for c in tok.children):
            return []
        for t in reversed(self.doc[max(0, tok.i - 600):tok.i]):
            if t.lemma_.lower() != lemma or t.pos_ not in ("NOUN", "PROPN"):
                continue
            named = [c for c in t.children if c.dep_ in ("amod", "compound", "nmod") and c.i < t.i]
            before = self.by_token.get(t.i - 1) if t.i > 0 else None
            if before is not None and before.cls == "Location" and t.i - 1 not in {c.i for c in named}:
                return [before]  # a headline's "Kenya police detain ...", parsed otherwise
            if not named:
                continue  # another bare use: look further back
            owners = [m for c in named for m in self._mentions_of_one(c, 1)]
            return owners if owners and all(m.cls == "Location" for m in owners) else []
        return []

    def resolve_role(self, tok: Token) -> list[Mention]:
        """"The French president said ...": the person a later sentence names as speaker.

        Newswire introduces a speaker by title, then quotes them by name
        ("..., Maria Lindqvist said"). A definite title with no name is taken
        to be the first person who is the subject of a speech verb in the next
        three sentences and is not named in the title's own sentence.
        """
        if not any(c.dep_ in ("det", "poss") and c.lower_ not in ("a", "an") for c in tok.children):
            return []
        s = self._sentence_of(tok)
        here = {resolve.person_key(m.text) for t in self.sents[s] for m in [self.by_token.get(t.i)] if m is not None}
        for sent in self.sents[s + 1: s + 4]:
            for t in sent:
                m = self.by_token.get(t.i)
                if (m is not None and m.cls == "Person" and t.dep_ == "nsubj"
                        and t.head.lemma_ in self.lex["speech_verbs"] and resolve.person_key(m.text) not in here):
                    return [m]
        return []

    def resolve_pair(self, tok: Token) -> list[Mention]:
        """"The two countries", "the two men": the pair named together just before.

        The nearest coordination of names before the phrase, in its own
        sentence or the two before it, must name exactly two entities of the
        class the noun asks for; a list of three, or none, leaves it unresolved.
        """
        wanted = self.lex["pair_nouns"][tok.lemma_.lower()]
        s = self._sentence_of(tok)
        for sent in reversed(self.sents[max(0, s - 2): s + 1]):
            heads = [t for t in sent if t.i < tok.i and t.dep_ != "conj" and t.i not in self.dateline
                     and any(c.dep_ == "conj" for c in t.children) and t.i in self.by_token]
            if heads:
                group = self.mentions_of(heads[-1])
                if len(group) == 2 and all(m.cls in wanted for m in group) and group[0].text != group[1].text:
                    return group
                return []
        return []

    def resolve_pronoun(self, tok: Token) -> list[Mention]:
        """The antecedent of a subject pronoun, when only one is possible."""
        if tok.i in self._pronoun_cache:
            return self._pronoun_cache[tok.i]
        self._pronoun_cache[tok.i] = []  # guards against cycles
        person = tok.lower_ in self.lex["person_pronouns"]
        wanted = ("Person",) if person else ("Organization", "Location")
        result: list[Mention] = []
        if tok.dep_ == "poss" and tok.head.dep_ == "conj" and tok.head.head != tok.head:
            # "X and its ally Y", "X and his wife": the conjunct before the one the pronoun is in
            first = [m for m in self._mentions_of_one(tok.head.head, 0) if m.cls in wanted]
            if len(first) == 1:
                self._pronoun_cache[tok.i] = first
                return first
        # "X said he ...", "X said its diplomats ...": the speaker.
        came = tok
        for anc in tok.ancestors:
            if anc.lemma_ in self.lex["speech_verbs"]:
                if came.dep_ in ("ccomp", "xcomp", "parataxis"):
                    for c in anc.children:
                        if c.dep_ == "nsubj" and c != tok:
                            cand = [m for m in self.mentions_of(c) if m.cls in wanted]
                            if len(cand) == 1 or (cand and tok.lower_ in ("they", "them", "their")):
                                result = cand  # "X and Y confirmed they were in talks": both
                break
            came = anc
        if not result and tok.lower_ == "it" and tok.dep_ in _OBJECT_DEPS:
            # "X surrounded Kabul and overran it": the one place, or object, named before it in the sentence
            places = {m.text: m for t in tok.sent if t.i < tok.i
                      for m in ([self.by_token[t.i]] if t.i in self.by_token else [])
                      + (self.mentions_of(t) if t.dep_ in _OBJECT_DEPS and t.head.pos_ == "VERB" else [])
                      if m.cls == "Location" or t.dep_ in _OBJECT_DEPS}
            if len(places) == 1:
                result = list(places.values())
        if not result and tok.lower_ == "it" and tok.dep_ == "nsubj" and tok.head.lemma_ in self.lex["fall_verbs"]:
            # "X's forces took the town of Kisoro, weeks after it fell to Y": the place taken, not the taker's own
            taker = {m for t in tok.sent if t.dep_ in ("nsubj", "nsubjpass") and t.i < tok.i for m in self.mentions_of(t)}
            places = {m.text: m for t in tok.sent if t.i < tok.i for m in [self.by_token.get(t.i)]
                      if m is not None and m.cls == "Location" and m not in taker and t.i not in self.dateline}
            if places:  # none in its sentence: the sentences before, as for any "it"
                self._pronoun_cache[tok.i] = list(places.values()) if len(places) == 1 else []
                return self._pronoun_cache[tok.i]
        if not result:
            s = self._sentence_of(tok)
            for back in range(0, 3):
                if s - back < 0:
                    break
                sent = self.sents[s - back]
                limit = tok.i if back == 0 else sent.end
                cands: dict[str, Mention] = {}
                sources: set[int] = set()  # the subject tokens the candidates come from
                for t in sent:
                    if t.i >= limit:
                        break
                    if person:
                        m = self.by_token.get(t.i)
                        if m is None and t.dep_ in ("nsubj", "nsubjpass") and t.pos_ == "PROPN" and t.i not in self.dateline:
                            m = next(iter(self._unrecognised_name(t)), None)  # a subject the recognizer missed
                        if m is not None and m.cls == "Person":
                            cands.setdefault(resolve.person_key(m.text), m)
                    elif t.dep_ in ("nsubj", "nsubjpass") and t != tok:
                        # "X and its ally Y": the conjunct that holds the pronoun is not its antecedent
                        for m in (self._mentions_of_one(t, 0) if tok in t.subtree else self.mentions_of(t)):
                            if m.cls in wanted:
                                cands.setdefault(m.text, m)
                                sources.add(t.i)
                if len(cands) == 1:
                    result = list(cands.values())
                    break
                if len(cands) > 1 and len(sources) == 1 and tok.lower_ in ("they", "them", "their"):
                    result = list(cands.values())  # "X and Y have been allies since 2019, when they seized Z": both
                    break
                if cands and person:
                    # several people: the one the sentence is about, its main clause's subject ("He" continues it)
                    subjects = {resolve.person_key(m.text): m for c in sent.root.children if c.dep_ in ("nsubj", "nsubjpass")
                                and c.i < limit for m in self.mentions_of(c) if m.cls == "Person"}
                    if len(subjects) == 1:
                        result = list(subjects.values())
                if cands:
                    break
                if person:  # "... he flew back on Sunday. He met X": the same person as the last "he"
                    earlier = [t for t in sent if t.i < limit and t.dep_ in ("nsubj", "nsubjpass") and t != tok
                               and t.lower_ == tok.lower_ and t.lower_ in ("he", "she")]
                    if earlier:
                        result = self.resolve_pronoun(earlier[-1])
                        break
        self._pronoun_cache[tok.i] = result
        return result

    def _mistyped_place(self, m: Mention) -> bool:
        """A one-word "person" the gazetteer knows as a place, in a slot only a place fills ("took Kherson").

        The small model often reads a lone city name as a person; a surname of
        someone named in full in the document stays a person.
        """
        if m.cls != "Person" or " " in m.text or resolve.normalize(m.text) not in resolve.gazetteer():
            return False
        return resolve.person_key(m.text) not in self.surnames

    def _named_in_full(self, m: Mention) -> bool:
        """A person with a full name, a title, or a surname of someone the document names in full."""
        return m.cls != "Person" or " " in m.text or bool(m.title) or resolve.person_key(m.text) in self.surnames


def _phrases(obj: Token, word: str) -> list[Token]:
    """``word`` phrases of a verb's object, also the one the parser hung on the verb right after the object."""
    end = max(t.i for t in obj.subtree)
    return [c for c in [*obj.children, *(c for c in obj.head.children if c.i == end + 1)]
            if c.dep_ == "prep" and c.lower_ == word]


def _names_regex(names: dict[str, str]):
    usable = sorted((n for n in names if len(n) >= 2 and n[0].isupper()), key=len, reverse=True)
    if not usable:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in usable) + r")(?!\w)")


def _drop_headline_noise(mentions: list[Mention], text: str, sents) -> list[Mention]:
    """Title Case headlines fool the entity recognizer ("Myanmar Irritates", "Perils Lurk").

    In a headline sentence, a mention keeps only the words that the rest of
    the article also uses; a mention left with none is dropped. Names the body
    uses are found again in the headline by the repeat search.
    """
    if len(sents) < 2 or not _title_case(sents[0]):
        return mentions
    head_end = sents[0].end_char
    places, bodies = _headline_keepers()
    body = text[head_end:]
    body_words = set(re.findall(r"\w+", body))
    body_names = {m.text for m in mentions if m.start >= head_end}
    out = []
    for m in mentions:
        if m.start >= head_end:
            out.append(m)
            continue
        words = list(re.finditer(r"\S+", m.text))
        keep = []
        for w in words:  # a word the body uses, a place the gazetteer knows ("U.S."), or a body's word after it
            parts = re.findall(r"\w+", w.group())
            if (all(p in body_words or p.upper() in body_words for p in parts) or resolve.place_key(w.group()) in places
                    or (keep and keep[-1] is words[words.index(w) - 1] and w.group().lower() in bodies)):
                keep.append(w)
        if not keep or len(keep) != len(words) and m.text in body_names:
            continue
        first, last = keep[0], keep[-1]
        if keep != words[words.index(first): words.index(last) + 1]:
            continue  # the kept words are not one stretch of the name
        start, end = m.start + first.start(), m.start + last.end()
        if text[start:end] in body_names and (start, end) != (m.start, m.end):
            continue
        out.append(replace(m, start=start, end=end, text=text[start:end]))
    return out


@lru_cache(maxsize=1)
def _headline_keepers() -> tuple[frozenset[str], frozenset[str]]:
    """Keys of the gazetteer's places, and the body words a headline name may go on with after one ("Military")."""
    places = frozenset(resolve.place_key(p) for p in resolve.gazetteer())
    return places, frozenset(lexicon()["organization_words"]) | {"military"}


@lru_cache(maxsize=1)
def _headline_small_words() -> frozenset[str]:
    return frozenset(lexicon()["headline_small_words"])


def _title_case(sentence: Span) -> bool:
    """A headline in Title Case: its content words, verbs included, all start with a capital."""
    small = _headline_small_words()
    words = [t for t in sentence if t.is_alpha and t.lower_ not in small]
    if len(words) < 3:
        return False
    return sum(1 for t in words if t.text[0].isupper()) / len(words) >= 0.9
