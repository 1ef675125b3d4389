"""Score the project's own extraction against a gold JSON Lines file.

The gold format and the matching rules are those of the annotation
guidelines (``GUIDELINES.md`` of the evaluation kit): names match
case-insensitively, ignoring a leading "the", a trailing "'s" and
surrounding punctuation; symmetric relations match either way round;
``optional`` relations and ``also_subject``/``also_object`` alternatives are
neither hits nor misses. The RDF a build would write is what gets scored, so
the figures agree with an external scorer that reads the RDF.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .build import document_quads
from .errors import InputError
from .records import Article, DocumentResult
from .resources import NG, PREFIXES, relation_specs

#: the relations the gold sets annotate; the others (``attacked``) are not scored, as in the kit's scorer
GOLD_NAMES = {"alliedTo": "allied-to", "captured": "captured", "metWith": "met-with"}
_TYPES = ("Person", "Organization", "Location")
_NAME_PROPS = {PREFIXES["rdfs"] + "label", PREFIXES["skos"] + "prefLabel", PREFIXES["skos"] + "altLabel"}


def gold_name(prop: str) -> str:
    """Gold-file name of a relation: ``alliedTo`` → ``allied-to``."""
    return GOLD_NAMES.get(prop) or re.sub(r"(?<!^)([A-Z])", lambda m: "-" + m.group(1).lower(), prop)


def norm(name: str) -> str:
    """A name as the guidelines compare it."""
    s = unicodedata.normalize("NFKC", name).replace("\u2019", "'").lower().strip()
    s = re.sub(r"\s+", " ", s).strip(" \t\"'.,;:()[]")
    s = re.sub(r"^the ", "", s)
    s = re.sub(r"'s?$", "", s)
    return s.strip()


@dataclass
class DocScore:
    id: str
    gold: int = 0
    system: int = 0
    tp_sys: int = 0
    tp_gold: int = 0
    redundant: int = 0
    misses: list[tuple[str, str]] = field(default_factory=list)  # (relation text, gold evidence)
    false_positives: list[tuple[str, str]] = field(default_factory=list)  # (relation text, sentence)
    ent_gold: int = 0
    ent_system: int = 0
    ent_tp_sys: int = 0
    ent_tp_gold: int = 0
    ent_type_ok: int = 0
    fragments: int = 0
    split_entities: list[tuple[str, list[str]]] = field(default_factory=list)  # (gold name, the nodes it became)
    per_relation: dict[str, list[int]] = field(default_factory=dict)  # rel → [tp_sys, system, tp_gold, gold]


def read_gold(path: str) -> list[dict]:
    """Gold documents of a JSON Lines file; raises InputError with file:line on a bad line."""
    docs = []
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read gold file '{path}': {e}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict) or not isinstance(doc.get("text"), str) or "id" not in doc:
                raise ValueError("each line needs an object with 'id' and 'text'")
        except ValueError as e:
            raise InputError(f"{path}:{n}: not a gold record: {e}") from None
        docs.append(doc)
    if not docs:
        raise InputError(f"gold file '{path}' has no documents")
    return docs


def _rdf_view(result: DocumentResult):
    """names, types and relations of one document, read back from its quads."""
    names: dict[str, set[str]] = {}
    types: dict[str, set[str]] = {}
    rels: set[tuple[str, str, str]] = set()
    sentences: dict[tuple[str, str, str], str] = {}
    relation_props = {NG + p: p for p in relation_specs()}
    rdf_type = PREFIXES["rdf"] + "type"
    for q in document_quads(result):
        s, p, o = q.subject.value, q.predicate.value, q.object
        if p in _NAME_PROPS:
            names.setdefault(s, set()).add(norm(o.value))
        elif p == rdf_type and o.value.startswith(NG) and o.value[len(NG):] in _TYPES:
            types.setdefault(s, set()).add(o.value[len(NG):])
        elif p in relation_props and relation_props[p] in GOLD_NAMES:  # the gold sets annotate only these
            rels.add((s, gold_name(relation_props[p]), o.value))
    for fact in result.facts:
        if fact.relation.factual:
            from .build import entity_iri

            key = (entity_iri(fact.subject), gold_name(fact.relation.prop), entity_iri(fact.object))
            sentences.setdefault(key, fact.relation.evidence.sentence)
    return names, types, rels, sentences


def score_document(gold: dict, result: DocumentResult) -> DocScore:
    """Score one document's extraction against its gold record."""
    names, types, rels, sentences = _rdf_view(result)
    symmetric = {gold_name(p) for p, spec in relation_specs().items() if spec.get("symmetric")}
    sc = DocScore(id=str(gold["id"]))

    def names_of(node: str) -> set[str]:
        return names.get(node) or {norm(re.sub(r"[_-]+", " ", re.split(r"[#/:]", node)[-1]))}

    golds = []
    for r in gold.get("relations", []):
        subj, obj = {norm(x) for x in r["subject"]}, {norm(x) for x in r["object"]}
        golds.append({
            "rel": r["relation"], "optional": bool(r.get("optional")), "s": subj, "o": obj,
            "also_s": subj | {norm(x) for x in r.get("also_subject", [])},
            "also_o": obj | {norm(x) for x in r.get("also_object", [])},
            "evidence": r.get("evidence", ""),
        })

    def hits(sn, rel, on, g, strict):
        if rel != g["rel"]:
            return False
        gs, go = (g["s"], g["o"]) if strict else (g["also_s"], g["also_o"])
        return bool(sn & gs and on & go) or (rel in symmetric and bool(sn & go and on & gs))

    seen, system = set(), []
    for s, rel, o in sorted(rels):
        key = (rel, frozenset((s, o))) if rel in symmetric else (rel, s, o)
        if key in seen or s == o:
            continue
        seen.add(key)
        system.append((names_of(s), rel, names_of(o), sentences.get((s, rel, o)) or sentences.get((o, rel, s), "")))

    matched: set[int] = set()
    neutral = 0
    for sn, rel, on, sentence in system:
        stat = sc.per_relation.setdefault(rel, [0, 0, 0, 0])
        strict = [i for i, g in enumerate(golds) if not g["optional"] and hits(sn, rel, on, g, True)]
        if strict:
            sc.tp_sys += 1
            stat[0] += 1
            stat[1] += 1
            if all(i in matched for i in strict):
                sc.redundant += 1
            matched.update(strict)
        elif any(hits(sn, rel, on, g, True) for g in golds) or any(hits(sn, rel, on, g, False) for g in golds):
            neutral += 1
        else:
            stat[1] += 1
            sc.false_positives.append((f"{sorted(sn)[0]} {rel} {sorted(on)[0]}", sentence))
    sc.system = len(system) - neutral
    for i, g in enumerate(golds):
        if g["optional"]:
            continue
        stat = sc.per_relation.setdefault(g["rel"], [0, 0, 0, 0])
        stat[3] += 1
        sc.gold += 1
        if i in matched:
            stat[2] += 1
        else:
            sc.misses.append((f"{sorted(g['s'])[0]} {g['rel']} {sorted(g['o'])[0]}", g["evidence"]))
    sc.tp_gold = len(matched)

    gold_ents = [({norm(n) for n in e["names"]}, e["type"]) for e in gold.get("entities", [])]
    hit_count = [0] * len(gold_ents)
    hit_nodes: list[list[str]] = [[] for _ in gold_ents]
    for node, ts in types.items():
        sc.ent_system += 1
        sn = names_of(node)
        idx = [i for i, (gn, _) in enumerate(gold_ents) if sn & gn]
        if idx:
            sc.ent_tp_sys += 1
            for i in idx:
                hit_count[i] += 1
                hit_nodes[i].append(" / ".join(sorted(sn)))
            if gold_ents[idx[0]][1] in ts:
                sc.ent_type_ok += 1
    sc.ent_gold = len(gold_ents)
    sc.ent_tp_gold = sum(1 for h in hit_count if h)
    sc.fragments = sum(max(0, h - 1) for h in hit_count)
    sc.split_entities = [(sorted(gn)[0], sorted(hit_nodes[i])) for i, (gn, _) in enumerate(gold_ents) if hit_count[i] > 1]
    return sc


def prf(tp_p: int, n_p: int, tp_r: int, n_r: int) -> tuple[float, float, float]:
    p = tp_p / n_p if n_p else 0.0
    r = tp_r / n_r if n_r else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Evaluation:
    documents: list[DocScore]

    def total(self, attr: str) -> int:
        return sum(getattr(d, attr) for d in self.documents)

    @property
    def relations(self) -> tuple[float, float, float]:
        return prf(self.total("tp_sys"), self.total("system"), self.total("tp_gold"), self.total("gold"))

    @property
    def entities(self) -> tuple[float, float, float]:
        return prf(self.total("ent_tp_sys"), self.total("ent_system"), self.total("ent_tp_gold"), self.total("ent_gold"))

    @property
    def type_accuracy(self) -> float:
        n = self.total("ent_tp_sys")
        return self.total("ent_type_ok") / n if n else 0.0

    def per_relation(self) -> dict[str, tuple[float, float, float, int]]:
        agg: dict[str, list[int]] = {}
        for d in self.documents:
            for rel, stat in d.per_relation.items():
                a = agg.setdefault(rel, [0, 0, 0, 0])
                for i in range(4):
                    a[i] += stat[i]
        return {rel: (*prf(*a), a[3]) for rel, a in sorted(agg.items())}

    def report(self, verbose: bool = False) -> str:
        lines = []
        if verbose:
            for d in self.documents:
                for rel, evidence in d.misses:
                    lines.append(f"MISS {d.id}: {rel}\n     | {evidence}")
                for rel, sentence in d.false_positives:
                    lines.append(f"FP   {d.id}: {rel}\n     | {sentence}")
                for name, nodes in d.split_entities:
                    lines.append(f"SPLIT {d.id}: {name} became {len(nodes)} nodes: " + " | ".join(nodes))
        lines.append(f"{'relation':<12} {'P':>6} {'R':>6} {'F1':>6} {'gold':>5}")
        for rel, (p, r, f, n) in self.per_relation().items():
            lines.append(f"{rel:<12} {p:6.3f} {r:6.3f} {f:6.3f} {n:5d}")
        rp, rr, rf = self.relations
        ep, er, ef = self.entities
        lines.append(
            f"relations P={rp:.3f} R={rr:.3f} F1={rf:.3f} | entities P={ep:.3f} R={er:.3f} F1={ef:.3f} "
            f"type-accuracy={self.type_accuracy:.3f} | fragments={self.total('fragments')} "
            f"redundant={self.total('redundant')} | documents={len(self.documents)}"
        )
        return "\n".join(lines)


def evaluate(gold_docs: Iterable[dict], model: str | None = None) -> Evaluation:
    """Extract every gold document's text and score it."""
    from .pipeline import extract_articles

    docs = list(gold_docs)
    articles = [Article(id=str(d["id"]), text=d["text"], date=d.get("date")) for d in docs]
    results = {r.article.id: r for r in extract_articles(articles, model=model, on_error="fail")}
    return Evaluation([score_document(d, results[str(d["id"])]) for d in docs])
