"""Relation files as typed specs: what a malformed file says when it loads."""
from __future__ import annotations

import pytest

from newsgraph.errors import NewsgraphError
from newsgraph.frames import parse_spec

CLASSES = frozenset({"Person", "Organization", "Location"})


def spec(**frame):
    base = {"name": "f", "pos": ["VERB"], "lemmas": ["meet"], "roles": {"party": ["subject", "object"]}}
    return {"property": "metWith", "symmetric": True, "lexicon": {"contests": ["final"]}, "frames": [{**base, **frame}]}


def test_a_well_formed_frame_loads_with_its_word_lists_filled_in():
    s = parse_spec(spec(unless=[{"DEP": "prep", "HAS": {"LEMMA": "@contests"}}], reciprocal=False), "t.json", CLASSES)
    frame = s.frames[0]
    assert frame.name == "metWith.f" and frame.reciprocal is False
    assert frame.unless == ({"DEP": "prep", "HAS": {"LEMMA": ["final"]}},)


@pytest.mark.parametrize("raw,message", [
    ({**spec(), "colour": "red"}, "unknown key 'colour'"),
    (spec(roles={"party": ["subjekt"]}), "unknown slot 'subjekt'"),
    (spec(roles={"agent": ["subject"], "patient": ["object"]}), "unknown key 'agent'"),
    (spec(reciprocal="together"), "'reciprocal' must be true or false"),
    (spec(multilateral="all"), "'multilateral' must be true or false"),
    (spec(full_names=1), "'full_names' must be true or false"),
    (spec(unless=[{"DEP": "prep", "CHILD": {}}]), "unknown key 'CHILD'"),
    (spec(unless={"DEP": "prep"}), "'unless' must be a list"),
    (spec(unless=[{"LEMMA": "@nowhere"}]), "unknown word list '@nowhere'"),
    (spec(classes={"party": ["Animal"]}), "unknown class 'Animal'"),
    ({**spec(), "unless_modifier": {"partner": "@nowhere"}}, "unknown word list '@nowhere'"),
])
def test_a_malformed_relation_file_is_one_clear_error(raw, message):
    with pytest.raises(NewsgraphError, match=message.replace("(", r"\(").replace("'", "'")):
        parse_spec(raw, "t.json", CLASSES)
