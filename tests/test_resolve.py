"""Mentions → entities on tables of mention records: which names of one article are one thing. No model here.

Every row is a construction with invented names, and every merge has a row where ambiguity or ownership
keeps the names apart: a wrong merge joins two actors' facts, which costs more than a missing one.
"""
from __future__ import annotations

import pytest

from newsgraph.records import Mention
from newsgraph.resolve import entities


def resolved(*names: tuple[str, str]) -> tuple[set[frozenset[str]], dict[str, str]]:
    """The entities of an article naming ``names`` ((text, class) in order): their name sets and each name's class."""
    mentions, text = [], ""
    for i, (name, cls) in enumerate(names):
        start = len(text)
        text += name + ". "
        mentions.append(Mention(start, start + len(name), name, cls, i))
    ents, _ = entities(mentions, text)
    groups = {frozenset((e.label, *e.names)) for e in ents}
    classes = {n: e.cls for e in ents for n in (e.label, *e.names)}
    return groups, classes


ORG, PER, LOC = "Organization", "Person", "Location"

ONE = [
    pytest.param([("Tavrel Inc.", ORG), ("Tavrel", ORG)], id="legal suffix"),
    pytest.param([("Brisk Air Lines", ORG), ("Brisk", ORG)], id="two-word suffix"),
    pytest.param([("Ostrava Mining Holding SA", ORG), ("Ostrava Mining", ORG)], id="suffixes in a row"),
    pytest.param([("Verdant Party", ORG), ("Verdant", ORG)], id="organisation noun"),
    pytest.param([("UN Tariff Council", ORG), ("Tariff Council", ORG)], id="owning body in front"),
    pytest.param([("Kenyan Rowing Society", ORG), ("Rowing Society", ORG)], id="nationality in front"),
    pytest.param([("Greyfield Electric Co.", ORG), ("GE", ORG)], id="initials without the suffix"),
    pytest.param([("Harwick Stock Exchange plc", ORG), ("Harwick Exchange", ORG)], id="inner words and a suffix"),
    pytest.param([("Britain", LOC), ("UK", LOC), ("United Kingdom", LOC)], id="one country's names"),
    pytest.param([("Russian Federation", LOC), ("Russia", LOC)], id="official and short country names"),
    pytest.param([("Frankie Osei", LOC), ("Osei", LOC)], id="a person typed as a place"),
    pytest.param([("Tamsin Adeyemi", LOC), ("Adeyemi", ORG)], id="a person typed two ways"),
    pytest.param([("Abu Sayf", PER), ("Abu Sayf al-Rimi", PER)], id="leading words of a full name"),
    pytest.param([("Daw Khin Mya Thet", PER), ("Mya Thet", PER)], id="trailing words of a full name"),
    pytest.param([("Piotr Grabnowski", PER), ("Grabnowksi", PER)], id="a surname with two letters swapped"),
    pytest.param([("Piotr Grabnowski", PER), ("Grabnowksi", ORG)], id="a misspelt surname typed as an organisation"),
    pytest.param([("Lena Okafor", PER), ("Okafor", ORG)], id="a surname typed as an organisation"),
    pytest.param([("Brisk Air Lines", ORG), ("Brisk", ORG)], id="a company's first word"),
    pytest.param([("Brisk Air Lines", ORG), ("Brisk", LOC)], id="a company's first word typed as a place"),
    pytest.param([("Air New Vellmark", ORG), ("Air NV", ORG)], id="some words as initials"),
    pytest.param([("Tessary Election Commission", ORG), ("Commission", ORG)], id="its organisation noun alone"),
    pytest.param([("Tomas Brandt", PER), ("Brandts", ORG)], id="a possessive without its apostrophe"),
    pytest.param([("Tavrel Dorn Holding", ORG), ("Tavrel", ORG)], id="a company's first word before a suffix"),
    pytest.param([("Corwin Maddox", ORG), ("Maddox", ORG)], id="a person's name and surname, both typed as organisations"),
    pytest.param([("Ilya Voronin", PER), ("Ilya Petrovich", PER)], id="a first name and patronymic"),
    pytest.param([("Rafal Obrenda Quist", ORG), ("Obrenda Quist", ORG)], id="trailing words of a person-like name typed as an organisation"),
    pytest.param([("Korvo Tilburg", PER), ("KORVO", ORG)], id="a club and its seat typed as a person, its name in capitals"),
    pytest.param([("Korvo Tilburg", PER), ("Korvo", ORG)], id="a club and its seat typed as a person"),
    pytest.param([("Leuven Tilburg", PER), ("LEUVEN", ORG)], id="a club named for one place, seated in another"),
]

APART = [
    pytest.param([("Tomas Brandt", PER), ("Anna Brandts", PER), ("Brandts", PER)],
                 id="a surname ending in s", marks=pytest.mark.joined("Anna Brandts", "Brandts")),
    pytest.param([("Air New Vellmark", ORG), ("Air North Vale", ORG), ("Air NV", ORG)], id="initials of two names"),
    pytest.param([("Air New Vellmark", ORG), ("Air NT", ORG)], id="initials that do not fit"),
    pytest.param([("Singapore Air Lines", ORG), ("Singapore", LOC)], id="a company named for a gazetteer place"),
    pytest.param([("Ana Maria Velasquez", PER), ("Carla Maria Velasquez", PER), ("Maria Velasquez", PER)],
                 id="trailing words of two full names"),
    pytest.param([("Kenyan Army", ORG), ("Chadian Army", ORG), ("Army", ORG)], id="two armies and 'the army'"),
    pytest.param([("ZDA Commission", ORG), ("ZDA", ORG)], id="a body and its owner"),
    pytest.param([("Halvorsen Foundation", ORG), ("Mira Halvorsen", PER), ("Halvorsen", PER)],
                 id="a foundation named for a person", marks=pytest.mark.joined("Mira Halvorsen", "Halvorsen")),
    pytest.param([("Mira Halvorsen Institute", ORG), ("Mira Halvorsen", PER)], id="an institute and its founder"),
    pytest.param([("Singapore Airlines", ORG), ("Singapore", LOC)], id="a company and its country"),
    pytest.param([("Kataib Zorrah", ORG), ("Zorrah", ORG)], id="two groups sharing a word"),
    pytest.param([("Jaish Zorrah", ORG), ("Zorrah", ORG)], id="an armed group and another sharing a word"),
    pytest.param([("Rafal Obrenda Quist", PER), ("Obrenda Quist", ORG)], id="trailing words typed as another class"),
    pytest.param([("Corwin Maddox", ORG), ("Elsa Maddox", ORG), ("Maddox", ORG)], id="two organisation-typed names sharing a word"),
    pytest.param([("Ilya Voronin", PER), ("Ilya Sedov", PER), ("Ilya Petrovich", PER)], id="a patronymic and two people with its first name"),
    pytest.param([("Ilya Voronin", PER), ("Pavel Petrovich", PER)], id="a patronymic after another first name"),
    pytest.param([("Lena Okafor", PER), ("Daniel Okafor", PER), ("Okafor", PER)], id="two people sharing a surname"),
    pytest.param([("Abu Sayf al-Rimi", PER), ("Abu Sayf al-Nuri", PER), ("Abu Sayf", PER)],
                 id="two full names sharing their first words"),
    pytest.param([("Tavrel Inc.", ORG), ("Tavrel Group", ORG), ("Tavrel", ORG)], id="two companies sharing a word"),
    pytest.param([("Ostrava Dorn", ORG), ("Ostrava Mining", ORG), ("Ostrava", ORG)], id="two names sharing a first word"),
    pytest.param([("National Dorn Bank", ORG), ("National", ORG)], id="a generic first word"),
    pytest.param([("Kenyan Dorn Club", ORG), ("Kenyan", ORG)], id="a nationality first"),
    pytest.param([("Korvo Tilburg", PER), ("Korvo Zwolle", PER), ("Korvo", ORG)], id="two clubs sharing a first word"),
    pytest.param([("Leuven Tilburg", PER), ("Leuven", LOC)], id="a club's first word as the place it is"),
    pytest.param([("Leuven Air Lines", ORG), ("Leuven", ORG)], id="a company named for a place, and the place typed otherwise"),
]


def bracketed(name: str, acronym: str, cls: str = ORG) -> set[frozenset[str]]:
    """The entities of "<name> (<acronym>) ... <acronym>."."""
    text = f"{name} ({acronym}) said. Later {acronym} said."
    at = text.index(acronym)
    later = text.rindex(acronym)
    mentions = [Mention(0, len(name), name, cls, 0), Mention(at, at + len(acronym), acronym, ORG, 0),
                Mention(later, later + len(acronym), acronym, ORG, 1)]
    ents, _ = entities(mentions, text)
    return {frozenset((e.label, *e.names)) for e in ents}


@pytest.mark.parametrize("name, acronym", [("Coastal Liberation Front", "CLF"), ("Tessary Workers Party", "PTK"),
                                           ("National Bank of Orlin", "BNO"), ("Vellmark Development Bank", "BRV")])
def test_an_acronym_in_brackets_after_a_name_is_that_name(name, acronym):
    """Also an acronym of the name in another language, when it begins with the initial of one of its words."""
    assert bracketed(name, acronym) == {frozenset((name, acronym))}


@pytest.mark.parametrize("name, acronym, cls", [("Tessary Workers Party", "ZQX", ORG), ("Ulla Brandt", "BRK", PER)])
def test_a_bracketed_acronym_that_fits_no_word_or_a_person_stays_apart(name, acronym, cls):
    """A person's name is no source of an acronym from another language; an acronym no word begins stays apart."""
    assert bracketed(name, acronym, cls) == {frozenset([name]), frozenset([acronym])}


@pytest.mark.parametrize("names", ONE)
def test_names_of_one_thing_become_one_entity(names):
    groups, _ = resolved(*names)
    assert groups == {frozenset(n for n, _ in names)}


@pytest.mark.parametrize("names", APART)
def test_ambiguous_or_owned_names_stay_apart(names, request):
    """Each name is an entity of its own, but for the pair a row says is joined."""
    groups, _ = resolved(*names)
    marker = request.node.get_closest_marker("joined")
    joined = frozenset(marker.args) if marker else None
    expected = {joined} if joined else set()
    expected |= {frozenset([n]) for n, _ in names if not joined or n not in joined}
    assert groups == expected


@pytest.mark.parametrize("names", [p for p in ONE if p.id in ("a person typed as a place", "a person typed two ways",
                                                               "a surname typed as an organisation",
                                                               "a misspelt surname typed as an organisation")])
def test_a_surname_written_alone_makes_the_name_a_person(names):
    _, classes = resolved(*names)
    assert {classes[n] for n, _ in names} == {PER}


def test_a_company_named_by_its_first_word_stays_a_company():
    _, classes = resolved(("Brisk", LOC), ("Brisk Air Lines", ORG))
    assert classes["Brisk"] == classes["Brisk Air Lines"] == ORG


def test_a_place_keeps_its_class_when_a_surname_matches_no_one():
    _, classes = resolved(("Frankie Osei", LOC), ("Accra", LOC))
    assert classes["Accra"] == LOC


@pytest.mark.parametrize("name", ["Jalalabad", "Tikrit", "Halabja", "Baqubah", "Samarra", "Qalat Sukkar"])
def test_the_gazetteer_knows_a_city_as_news_spells_it(name):
    """Cities are stored with their diacritics and marks ("Jalālābād", "Qal‘at Sukkar"); news writes them plain."""
    from newsgraph.resolve import gazetteer

    assert name.casefold() in gazetteer()

