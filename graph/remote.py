"""A SPARQL endpoint as a graph: newsgraph reads and writes a remote store over HTTP.

:class:`RemoteGraph` is one backend of :class:`newsgraph.store.Graph`
(``open_target``/``open_source`` return it for an ``http(s)://`` location), so the
pipeline, queries and exports do not know the difference. It speaks plain SPARQL 1.1
Query and Update, so it works with ``newsgraph serve --allow-update``, the Oxigraph
server, Fuseki and others.

Endpoints: the URL given is the query endpoint. Updates go to ``update_url`` when
given, else to the same URL with a last path segment ``query`` replaced by ``update``
(Oxigraph's ``/query`` → ``/update``, Fuseki's ``/ds/query`` → ``/ds/update``), else to
the URL itself (``newsgraph serve``'s ``/sparql`` takes both).

The store's layout is the embedded store's: each document is a named graph, and the
default graph holds their merge, maintained by the same update that writes the
document. So the server must keep its default graph apart from the named graphs (the
usual setting; not Oxigraph's ``--union-default-graph`` or Fuseki's
``unionDefaultGraph``), and a query sees every triple once whatever the server.
"""
from __future__ import annotations

import http.client
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox

from .errors import FormatError, QueryError, StoreError
from .layout import QUADS, count_statements, has_graph, ntriples, remove_update, replace_update
from .net import is_loopback
from .resources import ng
from .results import Result, Term, from_engine, graph_result

HTTP_TIMEOUT = 60.0  # seconds for one HTTP exchange; the server's own limit usually comes first
BATCH_DOCUMENTS = 16  # documents written per update request
BATCH_BYTES = 4 << 20  # ...or fewer, when their update text gets this long

_QUERY_ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
                 "application/n-triples;q=0.9, text/turtle;q=0.8, application/rdf+xml;q=0.5")
_RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
_GRAPHS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,  # what SPARQL 1.0 servers called N-Triples
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def is_endpoint(location: str) -> bool:
    """Whether a GRAPH or OUT names a SPARQL endpoint rather than a file or store."""
    return location[:8].lower().startswith(("http://", "https://"))


def update_endpoint(query_url: str) -> str:
    """The update endpoint that goes with a query endpoint, by the servers' conventions."""
    parts = urllib.parse.urlsplit(query_url)
    head, sep, last = parts.path.rpartition("/")
    if sep and last == "query":
        return urllib.parse.urlunsplit(parts._replace(path=f"{head}/update"))
    return query_url


def _check_url(url: str, what: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FormatError(f"'{url}' is not an http(s) URL of a SPARQL {what} endpoint")
    if parts.username or parts.password:
        raise FormatError(f"'{url}': newsgraph does not send credentials; give a URL without user:password@")
    try:
        parts.port  # noqa: B018 (reading the port is what checks it)
    except ValueError:
        raise FormatError(f"'{url}' has an invalid port") from None
    return url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is reported, not followed: urllib would turn a POSTed query into an empty GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class RemoteGraph:
    """A graph kept by a SPARQL 1.1 server, read with queries and written with updates: the endpoint backend
    of :class:`newsgraph.store.Graph`.

    >>> g = RemoteGraph("http://127.0.0.1:7878/query")      # doctest: +SKIP
    >>> g.update_url
    'http://127.0.0.1:7878/update'
    """

    reaches_network = True  # its queries are HTTP requests: query.run leaves the thread's sockets alone
    keeps_documents = True

    def __init__(self, url: str, update_url: str | None = None, timeout: float = HTTP_TIMEOUT,
                 batch_documents: int = BATCH_DOCUMENTS, writable: bool = False):
        self.location = self.url = _check_url(url, "query")
        self.update_url = _check_url(update_url, "update") if update_url else update_endpoint(url)
        self.base: str | None = None  # relative IRIs resolve against the endpoint's URL, as the server resolves them
        self.timeout = timeout
        self.batch_documents = batch_documents
        self._pending: dict[str, tuple[str | None, str]] = {}  # document → (content hash, its update)
        self._openers: dict[str, urllib.request.OpenerDirector] = {}
        # Fail now, not after the model has loaded: is the server there, and does it take updates?
        self._ask("ASK {}")
        if writable:
            self._update("")  # an empty update is valid SPARQL and changes nothing

    @staticmethod
    def claims(location: str, create: bool) -> bool:
        """Whether ``location`` names a SPARQL endpoint: an ``http(s)://`` URL."""
        return is_endpoint(location)

    @classmethod
    def create(cls, location: str, update_url: str | None = None) -> RemoteGraph:
        """The endpoint at ``location`` to build into, checked to take updates."""
        return cls(location, update_url=update_url, writable=True)

    @classmethod
    def open(cls, location: str, writable: bool = False, shared: bool = False) -> RemoteGraph:
        """The endpoint at ``location``, checked to answer."""
        return cls(location)

    # -------------------------------------------------------------- writing

    def has_document(self, doc: str, digest: str) -> bool:
        """Whether the server already holds this document with this content hash."""
        if doc in self._pending:
            return self._pending[doc][0] == digest
        d = ox.NamedNode(doc)
        return self._ask(f"ASK {{ GRAPH {d} {{ {d} {ox.NamedNode(ng('contentHash'))} {ox.Literal(digest)} }} }}")

    def document_id(self, doc: str) -> str | None:
        """The id of the article the server holds as document ``doc``, or None (a queued document counts as held)."""
        if doc in self._pending:
            return None  # queued in this run, whose reader refuses a second id for one document
        d = ox.NamedNode(doc)
        rows = self._query(f"SELECT ?id WHERE {{ GRAPH {d} {{ {d} {ox.NamedNode(ng('documentId'))} ?id }} }} LIMIT 1").rows
        return rows[0][0].value if rows and rows[0][0] is not None else None

    def put_document(self, doc: str, quads: Iterable[ox.Quad]) -> None:
        """Queue one document's quads, as :meth:`put_ntriples` does."""
        self.put_ntriples(doc, ntriples(quads))

    def put_ntriples(self, doc: str, data: bytes) -> None:
        """Queue one document's update (its graph replaced, the merge kept); sent in batches."""
        g = ox.NamedNode(doc)
        digest = next((t.object.value for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
                       if t.subject == g and t.predicate.value == ng("contentHash")), None)
        self._pending.pop(doc, None)
        self._pending[doc] = (digest, replace_update(g, data.decode("utf-8")))
        if len(self._pending) >= self.batch_documents or sum(len(u) for _, u in self._pending.values()) >= BATCH_BYTES:
            self.flush()

    def remove_document(self, doc: str) -> bool:
        """Remove everything one document contributed; returns whether it was there."""
        self.flush()
        if not self._ask(has_graph(doc)):
            return False
        self._update(remove_update(ox.NamedNode(doc)))
        return True

    def update(self, sparql: str, prefixes: Mapping[str, str] | None = None, base: str | None = None) -> None:
        """Send a SPARQL Update, after what is queued."""
        self.flush()
        self._update(_prologue(sparql, prefixes or {}, base) + sparql)

    def flush(self) -> None:
        """Send the queued documents as one update request (the server applies it whole or not at all)."""
        if self._pending:
            text = " ;\n".join(u for _, u in self._pending.values())
            self._pending.clear()
            self._update(text)

    # -------------------------------------------------------------- reading

    def query(self, sparql: str, prefixes: Mapping[str, str] | None = None, base: str | None = None,
              substitutions: Mapping[ox.Variable, Term] | None = None, default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None, max_rows: int | None = None) -> Result:
        """Run SPARQL on the server, after what is queued is sent.

        Without ``base``, relative IRIs resolve against the endpoint's URL, as the server resolves them.
        ``default_graphs`` and ``named_graphs`` go as the protocol's ``default-graph-uri`` and ``named-graph-uri``."""
        self.flush()
        return self._query(sparql, prefixes, base, substitutions, default_graphs, named_graphs, max_rows)

    def _query(self, sparql: str, prefixes: Mapping[str, str] | None = None, base: str | None = None,
               substitutions: Mapping[ox.Variable, Term] | None = None, default_graphs: Sequence[str] | None = None,
               named_graphs: Sequence[str] | None = None, max_rows: int | None = None) -> Result:
        text = _prologue(sparql, prefixes or {}, base) + sparql
        if substitutions:  # a trailing VALUES block binds them, as rdflib's SPARQLStore does
            names = list(substitutions)
            text += (f"\nVALUES ({' '.join(f'?{v.value}' for v in names)}) "
                     f"{{ ({' '.join(str(substitutions[v]) for v in names)}) }}")
        url = self.url
        if default_graphs is not None or named_graphs is not None:
            dataset = [("default-graph-uri", g) for g in default_graphs or ()] + [("named-graph-uri", g) for g in named_graphs or ()]
            url += ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(dataset)
        kind, body = self._post(url, "query", text, _QUERY_ACCEPT)
        if kind in _RESULTS:
            return self._parse(lambda: from_engine(ox.parse_query_results(body, _RESULTS[kind]), max_rows))
        if kind in _GRAPHS:
            return self._parse(lambda: graph_result((ox.Triple(q.subject, q.predicate, q.object)
                                                     for q in ox.parse(body, _GRAPHS[kind])), max_rows))
        raise StoreError(f"{self.url} answered with '{kind}', which is not a SPARQL result format newsgraph reads")

    def triples(self) -> Iterable[ox.Triple]:
        """Every distinct triple: the server's default graph, which holds the documents' merge."""
        return self.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }").triples or []

    def quads(self) -> Iterable[ox.Quad]:
        """The documents' graphs, and default-graph triples no document states."""
        return [ox.Quad(s, p, o, g or ox.DefaultGraph()) for s, p, o, g in self.query(QUADS).rows]

    def statements(self, fmt: ox.RdfFormat | None = None) -> int:
        """How many statements the graph holds as a file of format ``fmt`` (default: its triples)."""
        return count_statements(self.query, fmt)

    def __len__(self) -> int:
        return self.statements()

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Send what is still queued."""
        self.flush()

    def abandon(self) -> None:
        """Let go without sending what is queued."""
        self._pending.clear()

    def __enter__(self) -> RemoteGraph:
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()

    # ------------------------------------------------------------ HTTP

    def _ask(self, sparql: str) -> bool:
        """An ASK that does not send the queue first: the build asks about each document before queueing it."""
        return bool(self._query(sparql).boolean)

    def _update(self, sparql: str) -> None:
        self._post(self.update_url, "update", sparql, "*/*")

    def _parse(self, parse):
        try:
            return parse()
        except (SyntaxError, ValueError) as e:
            raise StoreError(f"{self.url} sent a result newsgraph cannot read: {str(e).splitlines()[0] if str(e) else e!r}") from None

    def _opener(self, url: str) -> urllib.request.OpenerDirector:
        host = urllib.parse.urlsplit(url).hostname or ""
        if host not in self._openers:
            # Loopback is never sent through an http_proxy from the environment; other hosts follow it as usual.
            proxies = urllib.request.ProxyHandler({} if is_loopback(host) else None)
            self._openers[host] = urllib.request.build_opener(proxies, _NoRedirect)
        return self._openers[host]

    def _post(self, url: str, what: str, sparql: str, accept: str) -> tuple[str, bytes]:
        """POST a query or update (SPARQL 1.1 Protocol, direct body); returns (media type, body)."""
        request = urllib.request.Request(url, data=sparql.encode("utf-8"), method="POST", headers={
            "Content-Type": f"application/sparql-{what}; charset=utf-8", "Accept": accept, "User-Agent": "newsgraph"})
        try:
            with self._opener(url).open(request, timeout=self.timeout) as response:
                return response.headers.get_content_type(), response.read()
        except urllib.error.HTTPError as e:
            raise _refused(url, what, e) from None
        except urllib.error.URLError as e:
            raise StoreError(f"cannot reach SPARQL endpoint {url}: {_reason(e.reason, self.timeout)}") from None
        except TimeoutError:
            raise StoreError(f"SPARQL endpoint {url} did not answer within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as e:
            raise StoreError(f"SPARQL endpoint {url} broke off the exchange: {_reason(e, self.timeout)}") from None


def _prologue(sparql: str, prefixes: Mapping[str, str], base_iri: str | None = None) -> str:
    """Declarations of the base and the predeclared prefixes the query uses and does not declare, on one line of its own.

    Only those, so that the server's error positions stay true for most queries (off by one line at most).
    The query's own BASE comes after this one, so it wins.
    """
    used = [p for p in prefixes if re.search(rf"(?<![\w.-]){re.escape(p)}:", sparql)
            and not re.search(rf"PREFIX\s+{re.escape(p)}:", sparql, re.I)]
    declared = ([f"BASE {ox.NamedNode(base_iri)}"] if base_iri else []) + [f"PREFIX {p}: {ox.NamedNode(prefixes[p])}" for p in used]
    return " ".join(declared) + "\n" if declared else ""


def _reason(reason, timeout: float) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the server running, on that port?)"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    return str(getattr(reason, "strerror", None) or reason)


def _refused(url: str, what: str, e: urllib.error.HTTPError) -> Exception:
    """One line for a 3xx/4xx/5xx answer: the status, its reason, and the start of the server's message."""
    try:
        text = e.read(2000).decode("utf-8", "replace")
    except OSError:
        text = ""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("<")]
    said = lines[0][:200] if lines else ""
    where = f"; it redirects to {e.headers.get('Location')}, use that URL" if 300 <= e.code < 400 and e.headers.get("Location") else ""
    message = f"SPARQL endpoint {url} refused the {what}: HTTP {e.code} {e.reason}{': ' + said if said else ''}{where}"
    if what == "query" and e.code == 400:
        return QueryError(message)
    return StoreError(message)
