"""Finds the data that ships beside the code: ontology, lexicons, relation patterns.

Everything under ``ontology/`` is data. The Python namespace of the ontology is
derived from ``ontology/newsgraph.ttl`` (see :func:`ontology_terms`), so a term
used in code but not declared there fails loudly.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import NewsgraphError

ONTOLOGY_DIR = Path(__file__).absolute().parent / "ontology"

NG = "https://w3id.org/newsgraph/ontology#"
PREFIXES = {
    "ng": NG,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "doc": "https://w3id.org/newsgraph/doc/",
    "entity": "https://w3id.org/newsgraph/entity/",
    "assertion": "https://w3id.org/newsgraph/assertion/",
    "mention": "https://w3id.org/newsgraph/mention/",
}


def data_path(*parts: str) -> Path:
    """Path of a file under the shipped ``ontology/`` folder."""
    return ONTOLOGY_DIR.joinpath(*parts)


@lru_cache(maxsize=None)
def load_json(*parts: str) -> Any:
    """Parse a JSON data file under ``ontology/`` (cached)."""
    path = data_path(*parts)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise NewsgraphError(f"broken data file {path.name}: {e}") from e


@lru_cache(maxsize=None)
def ontology_terms() -> frozenset[str]:
    """Local names of every term the ontology declares in the ``ng:`` namespace."""
    import pyoxigraph as ox

    terms = set()
    for triple in ox.parse(path=str(data_path("newsgraph.ttl")), format=ox.RdfFormat.TURTLE):
        s = triple.subject
        if isinstance(s, ox.NamedNode) and s.value.startswith(NG):
            terms.add(s.value[len(NG):])
    return frozenset(terms)


@lru_cache(maxsize=None)
def ontology_labels() -> dict[str, str]:
    """English ``rdfs:label`` of every ``ng:`` term, by local name."""
    import pyoxigraph as ox

    label = PREFIXES["rdfs"] + "label"
    out = {}
    for t in ox.parse(path=str(data_path("newsgraph.ttl")), format=ox.RdfFormat.TURTLE):
        if t.predicate.value == label and isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(NG):
            out[t.subject.value[len(NG):]] = t.object.value
    return out


def ng(local: str) -> str:
    """IRI of an ontology term; raises if the ontology does not declare it."""
    if local not in ontology_terms():
        raise NewsgraphError(f"'{local}' is not declared in ontology/newsgraph.ttl")
    return NG + local


@lru_cache(maxsize=None)
def relation_specs() -> dict[str, dict]:
    """Every relation type: ``{property local name: spec}`` from ``ontology/relations/*.json``."""
    specs = {}
    for path in sorted(data_path("relations").glob("*.json")):
        spec = load_json("relations", path.name)
        specs[spec["property"]] = spec
    return specs


@lru_cache(maxsize=None)
def relation_frames() -> dict[str, "RelationSpec"]:
    """Every relation file checked and typed: ``{property local name: RelationSpec}``."""
    from .frames import parse_spec

    classes = frozenset(t for t in ontology_terms() if t[:1].isupper())
    return {prop: parse_spec(raw, f"relations/{prop}.json", classes) for prop, raw in relation_specs().items()}


def lexicon() -> dict[str, list[str]]:
    """General word lists (pronouns, group nouns, modal verbs ...) from ``ontology/lexicon.json``."""
    return load_json("lexicon.json")
