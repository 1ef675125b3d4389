"""SPARQL 1.1 Protocol over HTTP: ``newsgraph serve GRAPH``.

``/sparql`` answers queries (GET ``?query=``, POST form ``query=``, POST
``application/sparql-query``) in the format the ``Accept`` header asks for:
SPARQL JSON (the default), XML, CSV or TSV for SELECT and ASK; Turtle (the
default), N-Triples, RDF/XML or JSON-LD for CONSTRUCT and DESCRIBE. A ``format``
parameter (``json xml csv tsv table turtle ntriples``) overrides it, for the query
page at ``/`` and for clients such as SPARQLWrapper that send one. ``/network`` is
the graph's HTML network, as ``newsgraph export`` draws it.

Safe by default:

* the server listens on loopback, and there answers only requests whose ``Host``
  names it (a web page cannot reach it through DNS rebinding);
* it only reads: an update (POST ``application/sparql-update`` or form ``update=``)
  is refused with 403 unless the server was started with ``allow_update``, and even
  then a browser page from another origin (other than the CORS one) cannot send one;
* no query or update reaches another server or file: ``SERVICE`` and ``LOAD`` are
  refused (:func:`newsgraph.query.check_query`, read as Oxigraph reads it), the worker
  processes cannot open an Internet socket, and Oxigraph's ``FROM``/``FROM NAMED``
  only pick graphs of the local dataset;
* each query runs in a worker process under a time limit; a query over it is
  stopped by killing its worker (pyoxigraph cannot cancel a running query), which
  is replaced; a result is cut at a row cap (header ``Newsgraph-Truncated``).

Relative IRIs in a query or update resolve against the URL it was sent to (without its query string), and
``using-graph-uri``/``using-named-graph-uri`` become ``USING`` clauses of the update
(:func:`newsgraph.query.with_dataset`), guarded again as rewritten.

A store directory is opened read-only by the workers while the server holds its
lock, so no build writes under them; with ``allow_update`` a single worker owns it
read-write. A file is loaded by each worker; with ``allow_update`` (a ``.nq`` or ``.trig``
file, which keeps the documents' graphs) the single worker writes it back after each update.

Here is the HTTP side: :class:`App` parses a request into a job (:mod:`newsgraph.jobs`, which also holds
what a worker does with it) and hands it to the :class:`~newsgraph.pool.Pool` of worker processes;
:class:`Server` puts the two behind waitress.
"""
from __future__ import annotations

import html
import os
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from pathlib import Path

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .errors import FormatError, NewsgraphError, QueryError, StoreError
from .jobs import TRUNCATED, Job, NetworkJob, QueryJob, Source, UpdateJob
from .limits import DEFAULT_MEMORY
from .net import is_loopback
from .pages import asset, csp_hash, fill
from .pool import Answered, Pool
from .query import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT
from .resources import PREFIXES
from .store import locate

DEFAULT_HOST = "127.0.0.1"  # loopback: only this machine can reach the server
DEFAULT_PORT = 7878
DEFAULT_WORKERS = 2
MAX_BODY = 64 << 20  # an update from a build carries a batch of documents

# media type → query.render format, in order of preference (the first is the default)
RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")
# ``format=`` values: (SELECT/ASK format, CONSTRUCT/DESCRIBE media type); None leaves it to Accept.
FORMAT_PARAM = {
    "json": ("json", "application/ld+json"), "xml": ("xml", "application/rdf+xml"),
    "csv": ("csv", None), "tsv": ("tsv", None), "table": ("table", "text/turtle"),
    "turtle": (None, "text/turtle"), "ttl": (None, "text/turtle"),
    "ntriples": (None, "application/n-triples"), "nt": (None, "application/n-triples"),
}


@dataclass
class Settings:
    """How a server answers."""

    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    allow_update: bool = False
    cors: str | None = None
    workers: int = DEFAULT_WORKERS
    memory: int = DEFAULT_MEMORY  # MB, see DEFAULT_MEMORY


def cors_origin(value: str) -> str:
    """``*`` or a web origin (``scheme://host[:port]``); raises ValueError for anything else."""
    if value == "*":
        return value
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"'{value}' is not an origin; give one like http://localhost:8000, or *")
    return f"{parts.scheme}://{parts.netloc}"


# ================================================================ HTTP


class App:
    """The WSGI application: parses SPARQL Protocol requests and hands them to the pool."""

    def __init__(self, pool: Pool, settings: Settings, name: str):
        self.pool = pool
        self.settings = settings
        self.name = name
        self.allowed_hosts: frozenset[str] | None = None  # None: any Host header
        self._generation = 0  # counts updates, which make the cached network page stale
        self._network_page: tuple | None = None

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = MAX_BODY
        request.max_form_memory_size = MAX_BODY
        try:
            response = self.dispatch(request)
        except HTTPException as e:
            response = _plain(e.code or 400, e.description or e.name)
        try:  # werkzeug capitalises reason phrases ("403 FORBIDDEN"); say them as RFC 9110 does
            response.status = f"{response.status_code} {HTTPStatus(response.status_code).phrase}"
        except ValueError:
            pass
        response.headers["X-Content-Type-Options"] = "nosniff"
        if self.settings.cors:
            response.headers["Access-Control-Allow-Origin"] = self.settings.cors
            response.headers["Access-Control-Expose-Headers"] = TRUNCATED
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if self.allowed_hosts is not None and request.host.lower() not in self.allowed_hosts:
            return _plain(403, f"Host '{request.host}' is not this server; it answers requests to {sorted(self.allowed_hosts)[0]}")
        if request.path in ("/", "/index.html"):
            return self.page() if request.method in ("GET", "HEAD") else _plain(405, "/ is a page: GET it", allow="GET, HEAD")
        if request.path == "/network":
            return self.network() if request.method in ("GET", "HEAD") else _plain(405, "GET /network", allow="GET, HEAD")
        if request.path != "/sparql":
            return _plain(404, f"no such page: {request.path}; the SPARQL endpoint is /sparql")
        if request.method == "OPTIONS":
            return self.preflight()
        if request.method not in ("GET", "POST"):
            return _plain(405, f"{request.method} is not part of the SPARQL protocol; use GET or POST", allow="GET, POST, OPTIONS")
        return self.sparql(request)

    # ------------------------------------------------------------------ /sparql

    def sparql(self, request: Request) -> Response:
        params = request.args
        query = update = None
        if request.method == "POST":
            media = request.mimetype
            charset = request.mimetype_params.get("charset", "utf-8").lower()
            if media in ("application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-update") \
                    and charset not in ("utf-8", "utf8"):
                return _plain(400, f"the request body is declared as {charset}; SPARQL requests must be UTF-8")
            if media == "application/x-www-form-urlencoded":
                if not _utf8_form(request.get_data(cache=True)):  # werkzeug would keep bad bytes as "%E9" text
                    return _plain(400, "the form holds a value that is not UTF-8 once decoded; SPARQL requests must be UTF-8")
                params = request.form
            elif media in ("application/sparql-query", "application/sparql-update"):
                try:
                    body = request.get_data(cache=False).decode("utf-8")
                except UnicodeDecodeError as e:
                    return _plain(400, f"the request body is not valid UTF-8 (byte {e.start}); SPARQL requests must be UTF-8")
                query, update = (body, None) if media.endswith("query") else (None, body)
            else:
                return _plain(415, f"unsupported Content-Type '{media or 'none'}'; send application/sparql-query, "
                                   "application/sparql-update or application/x-www-form-urlencoded")
        if query is None and update is None:
            queries, updates = params.getlist("query"), params.getlist("update")
            if len(queries) + len(updates) != 1:
                return _plain(400, "give exactly one query= (or, to change the graph, one update=)")
            if updates and request.method == "GET":
                return _plain(405, "an update must be POSTed (SPARQL 1.1 Protocol)", allow="POST")
            query, update = (queries or [None])[0], (updates or [None])[0]
        if update is not None:
            return self.update(request, update)
        return self.query(request, query, params)

    def query(self, request: Request, text: str, params) -> Response:
        from .query import check_query

        try:
            check_query(text)
            base = _base(request)
        except QueryError as e:
            return _plain(400, str(e))
        results, graph = FORMAT_PARAM.get(params.get("format", "").lower(), (None, None))
        accept = request.accept_mimetypes
        if results is None:
            results = RESULT_TYPES[accept.best_match(list(RESULT_TYPES), default="application/sparql-results+json")]
        if graph is None:
            graph = accept.best_match(list(GRAPH_TYPES), default="text/turtle")
        return self.answer(QueryJob(text, results, graph, self.settings.max_rows,
                                    default=tuple(request.values.getlist("default-graph-uri")),
                                    named=tuple(request.values.getlist("named-graph-uri")), base=base))

    def update(self, request: Request, text: str) -> Response:
        from .query import check_update, with_dataset

        if not self.settings.allow_update:
            return _plain(403, "this server is read-only: it was not started to accept SPARQL updates")
        origin = request.headers.get("Origin")
        if origin and origin != f"{request.scheme}://{request.host}" and self.settings.cors not in ("*", origin):
            return _plain(403, f"an update from a page of {origin} is refused: the server lets no page of that origin write")
        try:
            check_update(text)
            rewrite = with_dataset(text, request.values.getlist("using-graph-uri"),
                                   request.values.getlist("using-named-graph-uri"))
            for changed in (rewrite.text, *rewrite.probes):  # what the engine will parse is guarded, not only what was sent
                check_update(changed)
            base = _base(request)
        except QueryError as e:
            return _plain(400, str(e))
        response = self.answer(UpdateJob(rewrite.text, original=text, probes=rewrite.probes, base=base))
        if response.status_code < 300:
            self._generation += 1
        return response

    def answer(self, job: Job) -> Response:
        try:
            status, media, body, headers = self.pool.ask(job, self.settings.timeout)
        except Answered as e:
            status, media, body, headers = e.reply
        except QueryError as e:
            return _plain(503, str(e))
        except StoreError as e:
            return _plain(503, str(e))
        response = Response(body, status=status, content_type=media)
        response.headers.update(headers)
        return response

    def preflight(self) -> Response:
        response = Response(status=204)
        response.headers["Allow"] = "GET, POST, OPTIONS"
        if self.settings.cors:
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
            response.headers["Access-Control-Max-Age"] = "600"
        return response

    # ------------------------------------------------------------------ pages

    def page(self) -> Response:
        mode = "read-write (SPARQL Update allowed)" if self.settings.allow_update else "read-only"
        options = "".join(f'<option value="{f}">{f}</option>' for f in ("table", "json", "xml", "csv", "tsv", "turtle", "ntriples"))
        prefixes = " ".join(f"{p}:" for p in PREFIXES)
        body = fill(asset("query.html"), {
            "NAME": html.escape(self.name), "MODE": mode, "OPTIONS": options, "PREFIXES": html.escape(prefixes),
            "TIMEOUT": f"{self.settings.timeout:g}", "ROWS": str(self.settings.max_rows),
            "EXAMPLE": html.escape(asset("query.rq").rstrip("\n")), "CSS": asset("query.css")})
        response = Response(body, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = _page_csp()
        return response

    def network(self) -> Response:
        cached = self._network_page
        if cached is None or cached[0] != self._generation:
            generation = self._generation
            try:
                reply = self.pool.ask(NetworkJob(f"newsgraph: {self.name}"), self.settings.timeout)
            except NewsgraphError as e:
                return _plain(503, str(e))
            if reply[0] != 200:
                return Response(reply[2], status=reply[0], content_type=reply[1])
            cached = self._network_page = (generation, reply)
        status, media, body, headers = cached[1]
        response = Response(body, status=status, content_type=media)
        response.headers.update(headers)
        return response


@lru_cache(maxsize=1)
def _page_csp() -> str:
    """The query page's Content-Security-Policy: no script, only its own style sheet ('unsafe-inline' for old browsers)."""
    return (f"default-src 'none'; style-src {csp_hash(asset('query.css'))} 'unsafe-inline'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")


def _base(request: Request) -> str:
    """The base IRI of a query or update: the URL it was sent to, without its query string (SPARQL 1.1 Protocol)."""
    from .query import check_base

    try:
        return check_base(request.base_url)
    except QueryError:
        raise QueryError(f"the request URL {request.base_url} is not an IRI that relative IRIs could resolve against") from None


def _utf8_form(raw: bytes) -> bool:
    """Whether every name and value of a urlencoded body is UTF-8 once its %-escapes are decoded."""
    try:
        for pair in raw.split(b"&"):
            urllib.parse.unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _plain(status: int, message: str, allow: str | None = None) -> Response:
    response = Response(message.rstrip("\n") + "\n", status=status, content_type="text/plain; charset=utf-8")
    if allow:
        response.headers["Allow"] = allow
    return response


# ================================================================ serving


def _source(location: str, allow_update: bool) -> Source:
    where = locate(location)
    if where.reaches_network:
        raise FormatError(f"'{location}' is a SPARQL endpoint already; newsgraph serves a file or a store directory")
    if allow_update and not where.keeps_documents:  # a file of triples cannot keep documents apart
        raise FormatError(f"updates need a store directory or a .nq or .trig file, which keep each document's "
                          f"graph, not '{location}'", setting="allow_update")
    return Source(where, writable=allow_update)


class Server:
    """A running endpoint: ``url`` is its ``/sparql``; :meth:`run` serves until :meth:`close`."""

    def __init__(self, location: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, settings: Settings | None = None):
        import logging

        from waitress.server import create_server

        # waitress warns on stderr at every request that waits for a thread ("Task queue depth is 12"): under load
        # that floods the terminal, and a full stderr pipe would block the server. Queueing is expected here.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self.settings = settings = settings or Settings()
        source = _source(location, settings.allow_update)
        self._lock = None if source.writable else source.where.hold_off_writers()  # no build writes under the readers
        try:
            # One read-write owner for updates; readers otherwise, as many as asked.
            self.pool = Pool(source, 1 if settings.allow_update else settings.workers, settings.memory,
                             lanes=not settings.allow_update)
        except BaseException:
            self._release()
            raise
        self.app = App(self.pool, settings, Path(location.rstrip("/" + os.sep)).name or location)
        try:
            self.server = create_server(self.app, host=host, port=port, threads=max(32, 8 * settings.workers),
                                        ident="newsgraph", max_request_body_size=MAX_BODY, expose_tracebacks=False)
        except OSError as e:
            self.close()
            raise StoreError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
        self.port = self.server.effective_port
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}/sparql"
        self.loopback = is_loopback(host)
        if self.loopback:
            names = {shown.lower(), "localhost", "127.0.0.1", "[::1]"}
            self.app.allowed_hosts = frozenset({f"{n}:{self.port}" for n in names} | ({*names} if self.port == 80 else set()))

    def run(self) -> None:
        self.server.run()

    def close(self) -> None:
        server = getattr(self, "server", None)
        if server is not None:
            server.close()
        self.pool.close()
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def serve(location: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, settings: Settings | None = None,
          on_ready: Callable[[Server], None] | None = None) -> None:
    """Serve ``location`` (a file or store directory) until interrupted or terminated."""
    import signal

    server = Server(location, host, port, settings)

    def stop(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop) if threading.current_thread() is threading.main_thread() else None
    try:
        if on_ready is not None:
            on_ready(server)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
