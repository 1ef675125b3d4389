"""SPARQL in, W3C result formats out: guarded, time-limited, on Oxigraph's engine.

Queries are read-only here. ``SERVICE`` (which Oxigraph would follow to any
URL) and ``LOAD`` are refused before the query reaches the engine (see
:mod:`newsgraph.guard`), and the thread that runs a query on a local graph cannot
open an Internet socket; a query runs under a wall-clock limit and a row cap.
"""
from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring as _json_string  # str → JSON string, as json.dumps writes it

import pyoxigraph as ox

from . import guard
from .errors import QueryError, first_line
from .resources import PREFIXES
from .results import Result, read_terms
from .store import Graph

__all__ = ["Result", "check_base", "check_query", "check_update", "render", "run", "term_text", "update_syntax_error", "with_dataset"]

RESULT_FORMATS = ("table", "csv", "tsv", "json", "xml")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ROWS = 100_000

# Oxigraph recurses over a query's tree (long chains of UNION, OPTIONAL, "+" or "/" too, not only brackets):
# 8 MB, a thread's usual stack, overflows at a few thousand links. The stack is address space, used as touched.
QUERY_STACK = 256 << 20
_STACK_LOCK = threading.Lock()

_UPDATES = frozenset({"INSERT", "DELETE", "DROP", "CLEAR", "CREATE", "ADD", "MOVE", "COPY", "WITH"})


def _parts(result: Result) -> list[str]:
    """The solutions' cells with the separators between them: cell, "\t", cell, ..., "\n", cell, ..., "\n".

    With k variables, column j's cells are ``parts[2 * j::2 * k]``.
    """
    k = len(result.variables)
    rows = result.solutions.count("\n")
    if not k:
        return ["", "\n"] * rows
    parts = [""] * (2 * len(result.cells))
    parts[::2] = result.cells
    parts[1::2] = (["\t"] * (k - 1) + ["\n"]) * rows
    return parts


def check_query(sparql: str) -> None:
    """Refuse what an offline, read-only query may not do."""
    if not sparql.strip():
        raise QueryError("the query is empty")
    keyword = guard.first_keyword(sparql)
    if keyword in _UPDATES:
        raise QueryError(f"{keyword} is a SPARQL update; newsgraph only reads graphs: use SELECT, ASK, CONSTRUCT or DESCRIBE")
    guard.check(sparql, "queries", PREFIXES)


def check_update(sparql: str) -> None:
    """Refuse what an update may not do (``newsgraph serve --allow-update``): reach other servers or files."""
    guard.check(sparql, "updates", PREFIXES)


def update_syntax_error(update: str, base: str | None = None) -> SyntaxError | None:
    """What the engine finds wrong in the syntax of ``update`` (None: it parses), tried on an empty scratch store."""
    try:
        ox.Store().update(update, prefixes=PREFIXES, base_iri=base)
    except SyntaxError as e:
        return e
    except (OSError, ValueError, RuntimeError):
        pass
    return None


def check_base(iri: str) -> str:
    """``iri`` if it can be a base IRI (absolute, valid), else :class:`QueryError` saying why."""
    try:
        ox.NamedNode(iri)
    except ValueError as e:
        raise QueryError(f"'{iri}' is not an absolute IRI ({first_line(e)}); give one like file:///data/ or http://example.org/") from None
    return iri


# The words an update holds outside braces, SPARQL 1.1 Update's keywords. Any other word there is Oxigraph
# reading keywords glued together ("DELETEWHERE{"), whose operations the rewrite below could not find.
_UPDATE_WORDS = frozenset({"BASE", "PREFIX", "VERSION", "WITH", "USING", "NAMED", "WHERE", "DELETE", "INSERT", "DATA",
                           "LOAD", "SILENT", "INTO", "TO", "GRAPH", "DEFAULT", "ALL", "CLEAR", "DROP", "CREATE",
                           "ADD", "MOVE", "COPY"})
# What the engine must refuse where a USING clause goes: proof that the place is read, not in a comment or a string.
PROBE = "USING"


@dataclass(frozen=True)
class Rewrite:
    """An update with the protocol's dataset written into it, and a probe per place a clause went."""

    text: str
    probes: tuple[str, ...] = ()


def with_dataset(update: str, default: list[str], named: list[str]) -> Rewrite:
    """``update`` with ``USING`` (``default``) and ``USING NAMED`` (``named``) clauses before the WHERE of each
    DELETE/INSERT operation: the SPARQL 1.1 Protocol's ``using-graph-uri`` and ``using-named-graph-uri``, which
    pyoxigraph's ``Store.update`` cannot take. ``DELETE WHERE { Q }`` becomes ``DELETE { Q } USING ... WHERE { Q }``,
    its meaning in SPARQL 1.1 Update. Operations without a WHERE (``INSERT DATA``, ``CLEAR``, ...) stay as they are.

    The places come from the update's tokens, read as Oxigraph reads them (:func:`newsgraph.guard.tokens`); each
    probe is the update with :data:`PROBE` alone at one place, which the engine must refuse (see
    :mod:`newsgraph.serve`). Raises :class:`QueryError` for an invalid IRI, or an update that names its own
    dataset (``USING``, ``USING NAMED``, ``WITH``), which the protocol makes an error.
    """
    iris = []
    for g in [*default, *named]:
        try:
            iris.append(str(ox.NamedNode(g)))
        except ValueError as e:
            raise QueryError(f"invalid graph IRI '{g}' in using-graph-uri or using-named-graph-uri: {first_line(e)}") from None
    if not iris:
        return Rewrite(update)
    clauses = " ".join([f"USING {g}" for g in iris[:len(default)]] + [f"USING NAMED {g}" for g in iris[len(default):]])
    cuts: list[tuple[int, str]] = []  # (offset, text that goes there)
    depth = 0
    previous = ""
    where_at = pattern_at = None  # in a DELETE WHERE: the offset of its WHERE, then of its pattern's opening brace
    for kind, value, at in guard.tokens(update):
        if kind == "comment":
            continue
        if kind == "other" and value == "{":
            if depth == 0 and where_at is not None:
                pattern_at = at
            depth += 1
        elif kind == "other" and value == "}":
            depth = max(0, depth - 1)
            if depth == 0 and pattern_at is not None:
                cuts.append((where_at, f"{update[pattern_at:at + 1]} {clauses} "))
                where_at = pattern_at = None
        elif kind == "word" and depth == 0:
            word = value.upper()
            if word in ("USING", "WITH"):
                raise QueryError(f"the update has its own {word} clause, so using-graph-uri and using-named-graph-uri "
                                 "cannot also be given (SPARQL 1.1 Protocol); drop one of them")
            if word not in _UPDATE_WORDS:
                raise QueryError(f"cannot apply using-graph-uri or using-named-graph-uri to this update: '{value}' is not "
                                 "an update keyword; separate its keywords with spaces")
            if word == "WHERE" and previous == "}":  # after the templates of a DELETE/INSERT
                cuts.append((at, clauses + " "))
            elif word == "WHERE" and previous == "DELETE":
                where_at = at
            value = word
        previous = value
    text, probes, end = [], [], 0
    for at, clause in cuts:
        probes.append(f"{update[:at]}{PROBE} {update[at:]}")
        text += [update[end:at], clause]
        end = at
    text.append(update[end:])
    return Rewrite("".join(text), tuple(probes))


def run(graph: Graph, sparql: str, timeout: float | None = DEFAULT_TIMEOUT, max_rows: int = DEFAULT_MAX_ROWS,
        substitutions: dict | None = None, base: str | None = None, default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None) -> Result:
    """Run a read-only query, stopping it after ``timeout`` seconds.

    Relative IRIs resolve against ``base`` (default: the graph's own location, ``graph.base``); a ``BASE``
    in the query comes after it, so it wins. ``default_graphs`` and ``named_graphs`` name the dataset
    (the SPARQL 1.1 Protocol's ``default-graph-uri`` and ``named-graph-uri``).
    """
    check_query(sparql)
    base = base if base is not None else graph.base
    box: dict = {}

    def work() -> None:
        if not graph.reaches_network:
            guard.no_network()  # the second wall: whatever the engine parsed, this thread cannot connect
        try:
            box["result"] = graph.query(sparql, prefixes=PREFIXES, base=base, substitutions=substitutions,
                                        default_graphs=default_graphs, named_graphs=named_graphs, max_rows=max_rows)
        except BaseException as e:  # reported in the calling thread
            box["error"] = e

    with _STACK_LOCK:  # the stack size is process-wide state: set it for this one thread only
        previous = threading.stack_size(QUERY_STACK)
        try:
            worker = threading.Thread(target=work, daemon=True, name="newsgraph-query")
            worker.start()
        finally:
            threading.stack_size(previous)
    worker.join(timeout)
    if worker.is_alive():
        raise QueryError(f"query stopped after {timeout:g} s", setting="timeout")
    if "error" in box:
        e = box["error"]
        if isinstance(e, SyntaxError):
            raise QueryError(f"invalid SPARQL: {first_line(e)}") from None
        if isinstance(e, PermissionError):
            raise QueryError("query failed: it tried to reach the network, which newsgraph queries never do") from None
        if isinstance(e, (OSError, ValueError, TypeError, RuntimeError)):
            raise QueryError(f"query failed: {first_line(e)}") from None
        raise e
    return box["result"]


# ---------------------------------------------------------------- formatting

def render(result: Result, fmt: str = "table") -> str:
    """Text of a result: a table, or a W3C SPARQL results format; Turtle for graphs."""
    if result.kind == "graph":
        buf = io.BytesIO()
        ox.serialize(sorted(result.triples or [], key=str), buf, ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        return buf.getvalue().decode("utf-8")
    if fmt == "table":
        return _table(result)
    if result.kind == "ask":
        return _serialize_boolean(result.boolean, fmt)
    return _serialize_solutions(result, fmt)


_RESULT_FORMAT = {
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
}


def _serialize_boolean(value: bool, fmt: str) -> str:
    if fmt == "json":
        return '{"head":{},"boolean":%s}\n' % ("true" if value else "false")
    if fmt == "xml":
        return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
                f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n")
    return ("true" if value else "false") + "\n"


def _serialize_solutions(result: Result, fmt: str) -> str:
    if fmt == "json":
        return _json(result)
    if fmt == "xml":
        return _xml(result)
    if fmt == "tsv":
        return _tsv(result)
    return _csv(result)


def _no_triples(text, fmt: str):
    """``text`` for a format that cannot write a triple term: a term that is one is a :class:`QueryError`."""
    def checked(t) -> str:
        if isinstance(t, ox.Triple):
            raise QueryError(f"the results hold a triple term (<< ... >>), which {fmt} results cannot write; "
                             "ask for json, tsv or table")
        return text(t)
    return checked


# The writers below write each distinct cell once and map the solutions' cells to those texts column by column,
# in one join: per-row, and per-term, Python work is what a large result costs.

def _texts(result: Result, term, iri, string) -> dict[str, str]:
    """The text of each distinct cell of the solutions: ``iri(value)`` for an IRI and ``string(value)`` for a plain
    string, both read off the cell, ``term(t)`` for the others, parsed (``term(None)`` for an unbound one).

    The engine writes an IRI as ``<value>`` and a string as ``"value"``, with a backslash where it escapes.
    """
    texts = {}
    others = []
    for cell in result.distinct:
        if cell[:1] == "<" and cell[1:2] != "<":  # not a triple term, <<( ... )>>
            texts[cell] = iri(cell[1:-1])
        elif cell[:1] == '"' and cell[-1:] == '"' and "\\" not in cell:  # no language, no datatype, no escape
            texts[cell] = string(cell[1:-1])
        else:
            others.append(cell)
    texts.update(zip(others, map(term, read_terms(others))))
    return texts


def _fully_bound(result: Result) -> bool:
    """Whether the solutions have rows and variables, and every row binds every variable."""
    return bool(result.cells) and "" not in result.cells


def _columns(parts: list[str], k: int, texts: list[dict[str, str]]) -> None:
    """Replace each cell of ``parts`` (see :func:`_parts`; ``k`` columns) by ``texts[j][cell]``, ``j`` its column."""
    for j, column in enumerate(texts):
        parts[2 * j::2 * k] = map(column.__getitem__, parts[2 * j::2 * k])


def _tsv_term(t) -> str:
    return "" if t is None else str(t)


def _tsv(result: Result) -> str:
    texts = _texts(result, _tsv_term, "<{}>".format, lambda v: str(ox.Literal(v)))
    texts.update({"\t": "\t", "\n": "\n"})  # a cell is never a separator
    return "\t".join("?" + v for v in result.variables) + "\n" + "".join(map(texts.__getitem__, _parts(result)))


def _csv_term(t) -> str:
    if t is None:
        return ""
    return _csv_value(f"_:{t.value}" if isinstance(t, ox.BlankNode) else t.value)


def _csv_value(value: str) -> str:
    # RFC 4180, as the csv module writes it: quoted when it holds a comma, a quote or a line break
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv(result: Result) -> str:
    texts = _texts(result, _no_triples(_csv_term, "CSV"), _csv_value, _csv_value)
    texts.update({"\t": ",", "\n": "\r\n"})  # a cell is never a separator
    header = ",".join(map(_csv_value, result.variables))
    return header + "\r\n" + "".join(map(texts.__getitem__, _parts(result)))


_XSD_STRING = PREFIXES["xsd"] + "string"
_LANG_STRING = PREFIXES["rdf"] + "langString"


# A bound term in SPARQL JSON results, as json.dumps writes it (", " and ": ", no ASCII escapes).
_JSON_IRI = '{"type": "uri", "value": %s}'
_JSON_STRING = '{"type": "literal", "value": %s}'


def _json_term(t) -> str:
    if isinstance(t, ox.NamedNode):
        return _JSON_IRI % _json_string(t.value)
    if isinstance(t, ox.BlankNode):
        return '{"type": "bnode", "value": %s}' % _json_string(t.value)
    if isinstance(t, ox.Literal):
        value = _json_string(t.value)
        if t.language:
            return '{"type": "literal", "value": %s, "xml:lang": %s}' % (value, _json_string(t.language))
        if t.datatype.value not in (_XSD_STRING, _LANG_STRING):
            return '{"type": "literal", "value": %s, "datatype": %s}' % (value, _json_string(t.datatype.value))
        return _JSON_STRING % value
    return '{"type": "triple", "value": %s}' % _json_string(str(t))


def _json(result: Result) -> str:
    import json

    dumps = json.JSONEncoder(ensure_ascii=False).encode
    keys = [dumps(v) + ": " for v in result.variables]
    texts = _texts(result, lambda t: "" if t is None else _json_term(t), lambda v: _JSON_IRI % _json_string(v),
                   lambda v: _JSON_STRING % _json_string(v))
    cells = result.cells
    k = len(keys)
    if _fully_bound(result):  # one join: each separator holds the key of the cell after it
        parts = _parts(result)
        parts[::2] = map(texts.__getitem__, cells)
        parts[1::2] = ([", " + key for key in keys[1:]] + ["},\n{" + keys[0]]) * (len(cells) // k)
        parts[-1] = "}"
        bindings = "{" + keys[0] + "".join(parts)
    else:  # each row leaves out its unbound values
        rows = [cells[i:i + k] for i in range(0, len(cells), k)] if k else [[]] * result.solutions.count("\n")
        bindings = ",\n".join(["{" + ", ".join([key + texts[c] for key, c in zip(keys, row) if c]) + "}" for row in rows])
    return '{"head": {"vars": %s}, "results": {"bindings": [%s]}}\n' % (dumps(result.variables), bindings)


_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_SPECIAL = re.compile('[&<>"\r]|' + _XML_BAD.pattern)
_XML_SPECIAL_ASCII = re.compile('[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f]')  # the same for ASCII text, 5x faster to search


def _x(text: str) -> str:
    if not (_XML_SPECIAL_ASCII if text.isascii() else _XML_SPECIAL).search(text):  # most values: nothing to replace
        return text
    # \r is written as a reference: an XML parser would read a bare one as \n
    text = _XML_BAD.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("\r", "&#13;")


def _xml_term(t) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.NamedNode):
        return f"<uri>{_x(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{_x(t.value)}</bnode>"
    attrs = ""
    if t.language:
        attrs = f' xml:lang="{_x(t.language)}"'
    elif t.datatype.value not in (_XSD_STRING, _LANG_STRING):
        attrs = f' datatype="{_x(t.datatype.value)}"'
    return f"<literal{attrs}>{_x(t.value)}</literal>"


def _xml(result: Result) -> str:
    head = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
    head += [f'<variable name="{_x(v)}"/>' for v in result.variables]
    head.append("</head>\n<results>\n")
    texts = _texts(result, _no_triples(_xml_term, "XML"), lambda v: f"<uri>{_x(v)}</uri>",
                   lambda v: f"<literal>{_x(v)}</literal>")
    parts = _parts(result)
    k = len(result.variables)
    opens = [f'<binding name="{_x(v)}">' for v in result.variables]
    body = ""
    if _fully_bound(result):  # one join: each separator holds the opening tag of the cell after it
        parts[::2] = map(texts.__getitem__, result.cells)
        separators = ["</binding>\n" + o for o in opens[1:]] + ["</binding>\n</result>\n<result>\n" + opens[0]]
        parts[1::2] = separators * (len(parts) // (2 * k))
        parts[-1] = "</binding>\n</result>\n"
        body = "<result>\n" + opens[0] + "".join(parts)
    elif parts:  # each row leaves out its unbound values, so each column maps its cells to whole bindings
        _columns(parts, k, [{c: o + texts[c] + "</binding>\n" if c else "" for c in set(parts[2 * j::2 * k])}
                            for j, o in enumerate(opens)])
        separator = {"\t": "", "\n": "</result>\n<result>\n"}
        parts[1::2] = map(separator.__getitem__, parts[1::2])
        parts[-1] = "</result>\n"
        body = "<result>\n" + "".join(parts)
    return "\n".join(head) + body + "</results>\n</sparql>\n"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNREADABLE = re.compile("[\t\n]|" + _CONTROL.pattern)


@lru_cache(maxsize=1 << 16)
def _prefixed(iri: str) -> str:
    """``ng:Person`` for an IRI in a predeclared namespace, else ``<iri>``; cached, as results repeat their IRIs."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def term_text(term) -> str:
    """A term as a person reads it: prefixed IRIs, bare literal values, no terminal escapes."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        value = _prefixed(term.value)
    elif isinstance(term, ox.BlankNode):
        value = f"_:{term.value}"
    elif isinstance(term, ox.Literal):
        value = term.value
    else:
        value = str(term)
    return _readable(value)


def _readable(value: str) -> str:
    """``value`` on one line, without terminal escapes or bidirectional controls."""
    if not _UNREADABLE.search(value):  # most values: nothing to replace
        return value
    return _escaped(value.replace("\n", " ").replace("\t", " "))


def _escaped(value: str) -> str:
    """Terminal escapes and bidirectional controls in ``value`` written as ``\\xNN`` or ``\\uNNNN``."""
    return _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group()) if ord(m.group()) < 256 else "\\u%04x" % ord(m.group()), value)


_IRI_OR_STRING = re.compile(r"<[^<>\s]*>|\"\"\"[\s\S]*?\"\"\"|'\'\'[\s\S]*?'\'\'|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|#[^\n\r]*")
_NG_NAME = re.compile(r"(?<![\w:.-])ng:([A-Za-z_][\w-]*(?:\.[\w-]+)*)")


def unknown_terms(sparql: str) -> list[tuple[str, str | None]]:
    """The ``ng:`` terms a query names that the ontology does not declare, each with the nearest one it does.

    A misspelt property ("ng:captred") matches nothing, silently; this names it. A query that binds
    ``ng:`` to another namespace itself is left alone.

    >>> unknown_terms("SELECT * { ?a ng:captred ?b }")
    [('captred', 'captured')]
    """
    import difflib

    from .resources import NG, ontology_terms

    bare = _IRI_OR_STRING.sub(" ", sparql)
    if re.search(r"(?i)\bprefix\s+ng:", bare):
        return []
    names = _NG_NAME.findall(bare) + [m[len(NG):] for m in re.findall(r"<([^<>\s]*)>", sparql) if m.startswith(NG)]
    known = ontology_terms()
    out = []
    for name in dict.fromkeys(names):
        if name not in known:
            near = difflib.get_close_matches(name, sorted(known), n=1)
            out.append((name, near[0] if near else None))
    return out


def for_terminal(text: str) -> str:
    """``text`` with terminal escapes and bidirectional controls shown as escapes, its lines kept."""
    return "\n".join(_escaped(line) for line in text.split("\n"))


def _table(result: Result, width: int = 80) -> str:
    if result.kind == "ask":
        return ("yes" if result.boolean else "no") + "\n"
    header = result.variables
    texts = _texts(result, lambda t: _cut(term_text(t), width), lambda v: _cut(_readable(_prefixed(v)), width),
                   lambda v: _cut(_readable(v), width))
    parts = _parts(result)
    k = len(header)
    columns = [set(parts[2 * j::2 * k]) for j in range(k)]
    widths = [max(len(h), max([len(texts[c]) for c in column], default=0)) for h, column in zip(header, columns)]
    if k:  # every cell but the last of a row padded to its column's width
        _columns(parts, k, [{c: texts[c].ljust(w) for c in column} for column, w in zip(columns[:-1], widths)] + [texts])
    # a text holds no tab or line end (term_text), so those left are the separators
    rows = "".join(parts).replace("\t", "  ").split("\n")[:-1]
    lines = ["  ".join([h.ljust(w) for h, w in zip(header, widths)][:-1] + header[-1:]).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += map(str.rstrip, rows)
    n = len(rows)
    lines.append(f"({n} row{'s' if n != 1 else ''}{', truncated' if result.truncated else ''})")
    return "\n".join(lines) + "\n"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
