"""Typed records passed between the pipeline's stages.

read → :class:`Article`; extract → :class:`Mention` and :class:`Relation`;
resolve → :class:`Entity`; build turns them into RDF, a :class:`StoredDocument`
for the store.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One news article as read from a file, a feed line or stdin."""

    id: str
    text: str
    title: str | None = None
    date: str | None = None
    url: str | None = None
    source: str | None = None  # where it came from, for messages: "a.txt", "feed.jsonl:12"


@dataclass(frozen=True)
class Mention:
    """One occurrence of a named entity in an article's text (character offsets)."""

    start: int
    end: int
    text: str
    cls: str  # Person | Organization | Location
    sentence: int  # index of the sentence in the document
    title: str = ""  # a title written before a person's name: "Pope", "President"
    name: str = ""  # the entity's name when the text only implies it: "Turkey" for "Turkish forces"


@dataclass(frozen=True)
class Evidence:
    """Where and why a relation was found."""

    sentence: str
    start: int  # character offsets of the sentence in the article text
    end: int
    trigger: str
    rule: str


@dataclass(frozen=True)
class Relation:
    """A relation between two mentions, with the evidence for it.

    ``polarity`` is ``positive`` or ``negative``; ``modality`` is ``asserted``
    or one of ``planned``, ``attempted``, ``hypothetical``, ``alleged``,
    ``denied``. Only positive, asserted relations become direct triples.
    """

    prop: str  # local name of the ontology property, e.g. "captured"
    subject: Mention
    object: Mention
    evidence: Evidence
    polarity: str = "positive"
    modality: str = "asserted"
    attributed_to: Mention | None = None

    @property
    def factual(self) -> bool:
        return self.polarity == "positive" and self.modality == "asserted"


@dataclass(frozen=True)
class Entity:
    """One real-world entity of a document: its mentions merged."""

    label: str  # preferred name
    cls: str
    names: tuple[str, ...]  # every other surface form seen
    mentions: int = 1


@dataclass(frozen=True)
class Fact:
    """A relation between two resolved entities, with the entity it is attributed to."""

    subject: Entity
    relation: Relation
    object: Entity
    speaker: Entity | None = None


@dataclass(frozen=True)
class DocumentResult:
    """Everything extracted from one article, ready to become RDF."""

    article: Article
    entities: tuple[Entity, ...]
    facts: tuple[Fact, ...]
    content_hash: str = ""
    extras: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class StoredDocument:
    """A document ready for the store: its graph's IRI, its triples as N-Triples, and its factual relations."""

    iri: str
    ntriples: bytes
    relations: int = 0
