"""Reading the W3C SPARQL 1.1 test suites: manifests, test data, expected results, and comparing answers.

The suites live outside the repository, at ``../shared/w3c/sparql11/`` (one folder per area, each with a
``manifest.ttl``), unchanged W3C files. Every file is named by its ``file://`` URL: data is loaded with it as
the base IRI, a ``qt:graphData`` file is the named graph of that IRI, and a query's base is its own file's
URL, as the suites' expected results assume.

Answers compare as the SPARQL 1.1 test suites require: solutions as multisets (as sequences when the query
has ``ORDER BY``), blank nodes up to one consistent renaming, graphs with :func:`rdflib.compare.isomorphic`.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox

SUITES = Path(__file__).resolve().parents[2] / "shared" / "w3c" / "sparql11"
NOT_APPLICABLE = Path(__file__).parent / "data" / "w3c_not_applicable.tsv"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"

# The areas whose tests are queries (evaluation and syntax), and those whose tests are updates.
QUERY_AREAS = ("aggregates", "bind", "bindings", "cast", "construct", "csv-tsv-res", "exists", "functions",
               "grouping", "json-res", "negation", "project-expression", "property-path", "subquery",
               "syntax-query", "syntax-fed", "service", "entailment")
UPDATE_AREAS = ("syntax-update-1", "syntax-update-2", "delete-insert")


@dataclass(frozen=True)
class Case:
    """One test of a manifest."""

    iri: str
    kind: str  # the local name of its mf: type: QueryEvaluationTest, PositiveSyntaxTest11, ...
    name: str
    area: str
    query: Path | None = None  # the query (or update) file
    data: tuple[Path, ...] = ()
    graph_data: tuple[Path, ...] = ()
    result: Path | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        """A short test id: ``area/name-of-the-entry``."""
        return f"{self.area}/{self.iri.rsplit('#', 1)[-1]}"


def available() -> bool:
    return (SUITES / "manifest-all.ttl").is_file()


class _Triples:
    """A manifest's triples, indexed by subject and predicate."""

    def __init__(self, path: Path):
        self.index: dict = {}
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri()):
            self.index.setdefault((t.subject, t.predicate.value), []).append(t.object)

    def all(self, s, p: str) -> list:
        return self.index.get((s, p), [])

    def one(self, s, p: str):
        found = self.all(s, p)
        return found[0] if found else None

    def items(self, head) -> list:
        out = []
        while head is not None and head != ox.NamedNode(RDF + "nil"):
            out.append(self.one(head, RDF + "first"))
            head = self.one(head, RDF + "rest")
        return out


def _path(term) -> Path | None:
    if term is None:
        return None
    from urllib.parse import unquote, urlsplit

    return Path(unquote(urlsplit(term.value).path))


@cache
def manifest(area: str) -> tuple[_Triples, tuple[Case, ...]]:
    """The manifest of one area and its tests, in the manifest's order (``mf:entries``)."""
    path = SUITES / area / "manifest.ttl"
    m = _Triples(path)
    root = ox.NamedNode(path.as_uri())
    cases = []
    for entry in m.items(m.one(root, MF + "entries")):
        kind = m.one(entry, RDF + "type").value.rsplit("#", 1)[-1]
        name = m.one(entry, MF + "name")
        action = m.one(entry, MF + "action")
        case = dict(iri=entry.value, kind=kind, name=name.value if name else "", area=area,
                    result=_path(m.one(entry, MF + "result")), extra={"entry": entry})
        if isinstance(action, ox.NamedNode):
            case["query"] = _path(action)
        elif action is not None:
            query = m.one(action, QT + "query") or m.one(action, UT + "request")
            case["query"] = _path(query)
            case["data"] = tuple(_path(d) for d in m.all(action, QT + "data"))
            case["graph_data"] = tuple(_path(d) for d in m.all(action, QT + "graphData"))
            case["extra"]["service"] = bool(m.all(action, QT + "serviceData"))
        cases.append(Case(**case))
    return m, tuple(cases)


def cases(areas, *kinds: str) -> list[Case]:
    """The tests of the given kinds in ``areas`` (none when the suites are absent)."""
    if not available():
        return []
    return [c for area in areas if (SUITES / area / "manifest.ttl").is_file() for c in manifest(area)[1] if c.kind in kinds]


# ------------------------------------------------------------------ the not-applicable list


@dataclass(frozen=True)
class Exemption:
    reason: str

    @property
    def marker(self) -> str:
        """``design`` (newsgraph refuses it on purpose), ``engine`` (pyoxigraph fails it too) or ``known`` (a bug)."""
        return self.reason.split(":", 1)[0]


def exemptions() -> dict[str, Exemption]:
    """The entries of ``tests/data/w3c_not_applicable.tsv``, by test IRI."""
    out = {}
    lines = NOT_APPLICABLE.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["test IRI or name", "reason"], lines[0]
    for n, line in enumerate(lines[1:], 2):
        if not line.strip() or line.startswith("#"):
            continue
        test, reason = line.split("\t")
        assert reason.split(":", 1)[0] in ("design", "engine", "known"), f"line {n}: {reason!r}"
        assert test not in out, f"line {n}: {test} twice"
        out[test] = Exemption(reason)
    return out


# ------------------------------------------------------------------ data


def rdf_format(path: Path) -> ox.RdfFormat:
    return {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".rdf": ox.RdfFormat.RDF_XML,
            ".n3": ox.RdfFormat.N3, ".trig": ox.RdfFormat.TRIG, ".nq": ox.RdfFormat.N_QUADS}[path.suffix]


@cache
def dataset(data: tuple[Path, ...], graph_data: tuple[Path, ...]) -> ox.Store:
    """A store with ``data`` in its default graph and each ``graph_data`` file as the named graph of its URL.

    Cached: tests that share data share one store, which the (read-only) queries never change.
    """
    store = ox.Store()
    for path in data:
        store.load(path=str(path), format=rdf_format(path), base_iri=path.as_uri(), to_graph=ox.DefaultGraph())
    for path in graph_data:
        store.load(path=str(path), format=rdf_format(path), base_iri=path.as_uri(), to_graph=ox.NamedNode(path.as_uri()))
    return store


# ------------------------------------------------------------------ expected results


@dataclass
class Answer:
    """An answer, whatever its source: a boolean, solutions (variables and rows) or a graph's triples."""

    boolean: bool | None = None
    variables: list[str] | None = None
    rows: list[tuple] | None = None
    triples: list | None = None  # rdflib triples
    order: list[str] | None = None  # the variables of the query's ORDER BY, whose values keep their order


_RESULT_FORMATS = {".srx": ox.QueryResultsFormat.XML, ".srj": ox.QueryResultsFormat.JSON,
                   ".tsv": ox.QueryResultsFormat.TSV}


def parse_results(data: bytes | Path, suffix: str = "") -> Answer:
    """An answer from a SPARQL results document (``.srx``, ``.srj``, ``.tsv``, ``.csv``) or an RDF file."""
    base = None
    if isinstance(data, Path):
        suffix, base, data = data.suffix, data.as_uri(), data.read_bytes()
    if suffix == ".csv":
        return _csv(data.decode("utf-8"))
    if suffix in _RESULT_FORMATS:
        parsed = ox.parse_query_results(data, _RESULT_FORMATS[suffix])
        if isinstance(parsed, ox.QueryBoolean):
            return Answer(boolean=bool(parsed))
        variables = [v.value for v in parsed.variables]
        return Answer(variables=variables, rows=[tuple(s[v] for v in variables) for s in parsed])
    return _rdf(data, suffix, base)


def _rdf(data: bytes, suffix: str, base: str | None = None) -> Answer:
    import rdflib

    g = rdflib.Graph()
    g.parse(data=data, format={".ttl": "turtle", ".nt": "nt", ".rdf": "xml"}[suffix], publicID=base)
    result_set = next(g.subjects(rdflib.RDF.type, rdflib.URIRef(RS + "ResultSet")), None)
    if result_set is None:
        return Answer(triples=list(g))
    return _result_set(g, result_set)


def _result_set(g, rs) -> Answer:
    """Solutions written in RDF with the DAWG result-set vocabulary."""
    import rdflib

    R = rdflib.Namespace(RS)
    boolean = g.value(rs, R.boolean)
    if boolean is not None:
        return Answer(boolean=boolean.toPython())
    variables = sorted(str(v) for v in g.objects(rs, R.resultVariable))
    rows = []
    for solution in g.objects(rs, R.solution):
        bound = {str(g.value(b, R.variable)): _ox(g.value(b, R.value)) for b in g.objects(solution, R.binding)}
        rows.append(tuple(bound.get(v) for v in variables))
    return Answer(variables=variables, rows=rows)


def _ox(term):
    """An rdflib term as a pyoxigraph term."""
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)


class _Csv(str):
    """A CSV cell: only its text is known, or that it is a blank node (``_:label``)."""


def _csv(text: str) -> Answer:
    rows = list(csv.reader(io.StringIO(text)))
    variables = rows[0]
    out = []
    for row in rows[1:]:
        out.append(tuple(ox.BlankNode(v[2:]) if v.startswith("_:") else (_Csv(v) if v else None) for v in row))
    return Answer(variables=variables, rows=out)


def as_csv(answer: Answer) -> Answer:
    """What a CSV document keeps of an answer: each value's text, and which values are blank nodes."""
    def cell(t):
        if t is None or isinstance(t, (ox.BlankNode, _Csv)):
            return t
        return _Csv(t.value) if t.value else None

    return Answer(variables=answer.variables, rows=[tuple(cell(t) for t in row) for row in answer.rows],
                  order=answer.order)


def from_result(result) -> Answer:
    """An answer from :class:`newsgraph.query.Result` (or raw pyoxigraph results)."""
    import rdflib

    if isinstance(result, ox.QueryBoolean):
        return Answer(boolean=bool(result))
    if isinstance(result, ox.QueryTriples):
        return _rdf(ox.serialize(list(result), format=ox.RdfFormat.N_TRIPLES), ".nt")
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        return Answer(variables=variables, rows=[tuple(s[v] for v in variables) for s in result])
    if result.kind == "ask":
        return Answer(boolean=result.boolean)
    if result.kind == "graph":
        g = rdflib.Graph().parse(data=ox.serialize(result.triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
        return Answer(triples=list(g))
    return Answer(variables=list(result.variables), rows=[tuple(r) for r in result.rows])


# ------------------------------------------------------------------ comparing


_AFTER_ORDER = frozenset({"LIMIT", "OFFSET", "VALUES"})


def order_variables(query: str) -> list[str] | None:
    """The variables the outer ``ORDER BY`` of ``query`` names (in its keys' expressions), None without one.

    Only their values' order is fixed: solutions that tie on them may come in any order.
    """
    from newsgraph.guard import tokens

    depth, found, previous = 0, None, ""
    for kind, value, _ in tokens(query):
        if kind == "comment":
            continue
        if kind == "other" and value == "{":
            depth += 1
        elif kind == "other" and value == "}":
            depth -= 1
        elif depth == 0 and kind == "word" and value.upper() == "BY" and previous == "ORDER":
            found = []
        elif depth == 0 and found is not None and kind == "word" and value.upper() in _AFTER_ORDER:
            break
        elif depth == 0 and found is not None and kind == "var" and value[1:] not in found:
            found.append(value[1:])
        previous = value.upper() if kind == "word" else value
    return found


def difference(expected: Answer, actual: Answer) -> str | None:
    """None when ``actual`` is ``expected`` (as the test suites compare), else what differs."""
    if expected.boolean is not None or actual.boolean is not None:
        return None if expected.boolean == actual.boolean else f"expected {expected.boolean}, got {actual.boolean}"
    if expected.triples is not None or actual.triples is not None:
        return _graph_difference(expected.triples, actual.triples)
    if sorted(expected.variables) != sorted(actual.variables):
        return f"variables: expected {expected.variables}, got {actual.variables}"
    order = [actual.variables.index(v) for v in expected.variables]
    got = [tuple(row[i] for i in order) for row in actual.rows]
    order = [expected.variables.index(v) for v in expected.order or () if v in expected.variables]
    if not _same_solutions(expected.rows, got, order if expected.order is not None else None):
        return f"expected {len(expected.rows)} rows {_show(expected.rows)}, got {len(got)} rows {_show(got)}"
    return None


def _show(rows: list, n: int = 6) -> str:
    return "[" + "; ".join(" ".join("-" if t is None else str(t) for t in r) for r in rows[:n]) + (" ..." if len(rows) > n else "") + "]"


def _graph_difference(expected, actual) -> str | None:
    import rdflib
    from rdflib.compare import graph_diff, isomorphic, to_isomorphic

    if expected is None or actual is None:
        return f"expected {'a graph' if expected is not None else 'solutions'}, got the other"
    a, b = rdflib.Graph(), rdflib.Graph()
    for t in expected:
        a.add(t)
    for t in actual:
        b.add(t)
    if isomorphic(a, b):
        return None
    _, missing, extra = graph_diff(to_isomorphic(a), to_isomorphic(b))
    return f"graphs differ: missing {sorted(map(str, missing))[:4]}, extra {sorted(map(str, extra))[:4]}"


def _key(term):
    """A term with its blank node label erased, for a first comparison without the renaming."""
    if isinstance(term, ox.BlankNode):
        return "_:"
    if isinstance(term, ox.Triple):
        return ("<<", _key(term.subject), term.predicate, _key(term.object))
    if type(term) is _Csv:
        return ("csv", str(term))
    if isinstance(term, ox.Literal):
        if term.language:
            return ("lang", term.value, term.language.lower())  # language tags are case-insensitive
        number = _number(term)
        if number is not None:
            return ("number", term.datatype.value, number)
        if term.datatype.value == _XSD + "boolean" and term.value in ("0", "1", "true", "false"):
            return ("boolean", term.value in ("1", "true"))
    return term


_XSD = "http://www.w3.org/2001/XMLSchema#"
_DECIMALS = {_XSD + t for t in ("decimal", "integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                  "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedLong",
                                  "unsignedInt", "unsignedShort", "unsignedByte")}
_FLOATS = {_XSD + "double", _XSD + "float"}


def _number(term: ox.Literal):
    """The value of a numeric literal: the suites write "1.0"^^xsd:decimal and "3.0E4"^^xsd:double where an
    engine may write the same value as "1" and "30000", and compare literals of one datatype by value
    (booleans too: "1" and "true"). A value of another datatype is another literal."""
    from decimal import Decimal, InvalidOperation

    try:
        if term.datatype.value in _DECIMALS:
            return Decimal(term.value).normalize()
        if term.datatype.value in _FLOATS:
            return float(term.value)
    except (InvalidOperation, ValueError):
        return None
    return None


def _same_solutions(expected: list[tuple], actual: list[tuple], order: list[int] | None) -> bool:
    """Whether the rows are the same multiset (the same sequence of ``order`` columns' values, when given) under
    one blank node renaming."""
    if len(expected) != len(actual):
        return False
    if Counter(tuple(map(_key, r)) for r in expected) != Counter(tuple(map(_key, r)) for r in actual):
        return False
    if order is not None:
        sequence = lambda rows: [tuple(_key(r[i]) for i in order) for r in rows]  # noqa: E731
        if sequence(expected) != sequence(actual):
            return False
    if not any(isinstance(t, (ox.BlankNode, ox.Triple)) for r in expected for t in r):
        return True
    return _match(list(expected), list(actual), {}, {})


def _bind(a, b, forward: dict, backward: dict) -> bool:
    """Whether term ``a`` (expected) can be ``b`` (actual) with the renaming, extending it in place."""
    if isinstance(a, ox.BlankNode) and isinstance(b, ox.BlankNode):
        if forward.get(a, b) != b or backward.get(b, a) != a:
            return False
        forward[a], backward[b] = b, a
        return True
    if isinstance(a, ox.Triple) and isinstance(b, ox.Triple):
        return a.predicate == b.predicate and _bind(a.subject, b.subject, forward, backward) \
            and _bind(a.object, b.object, forward, backward)
    return _key(a) == _key(b)


def _match(expected: list[tuple], actual: list[tuple], forward: dict, backward: dict) -> bool:
    """Backtracking search for a one-to-one pairing of rows under one blank node renaming."""
    if not expected:
        return True
    row, rest = expected[0], expected[1:]
    for i, candidate in enumerate(actual):
        f, b = dict(forward), dict(backward)
        if all(_bind(x, y, f, b) for x, y in zip(row, candidate)):
            if _match(rest, actual[:i] + actual[i + 1:], f, b):
                return True
    return False
