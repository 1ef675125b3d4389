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
"""
from __future__ import annotations

import html
import io
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from multiprocessing.connection import Connection
from pathlib import Path

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .errors import FormatError, NewsgraphError, QueryError, StoreError, first_line
from .limits import DEFAULT_MEMORY
from .net import is_loopback
from .pages import asset, csp_hash, fill
from .query import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT
from .resources import PREFIXES
from .store import Location, locate

DEFAULT_HOST = "127.0.0.1"  # loopback: only this machine can reach the server
DEFAULT_PORT = 7878
DEFAULT_WORKERS = 2
MAX_BODY = 64 << 20  # an update from a build carries a batch of documents
START_TIMEOUT = 600.0  # seconds a worker may take to load its graph

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
_RESULT_MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                 "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8",
                 "table": "text/plain; charset=utf-8"}
# ``format=`` values: (SELECT/ASK format, CONSTRUCT/DESCRIBE media type); None leaves it to Accept.
FORMAT_PARAM = {
    "json": ("json", "application/ld+json"), "xml": ("xml", "application/rdf+xml"),
    "csv": ("csv", None), "tsv": ("tsv", None), "table": ("table", "text/turtle"),
    "turtle": (None, "text/turtle"), "ttl": (None, "text/turtle"),
    "ntriples": (None, "application/n-triples"), "nt": (None, "application/n-triples"),
}
TRUNCATED = "Newsgraph-Truncated"
_NETWORK_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
                "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


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


# ================================================================ workers


@dataclass(frozen=True)
class _Source:
    """The graph the workers open (picklable), and whether they may change it."""

    where: Location
    writable: bool


class _Overtime(Exception):
    pass


class _OutOfMemory(Exception):
    pass


_NO_MEMORY = "the query ran out of memory: it needs more than the {} MB a query may use here"


class _Worker:
    """One child process holding the graph; it answers jobs one at a time over a socket pair."""

    def __init__(self, source: _Source, memory: int):
        ours, theirs = socket.socketpair()
        package_parent = str(Path(__file__).parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
        # A fresh interpreter, not multiprocessing's fork (unsafe in a threaded server) or spawn
        # (which would re-run the main script of a console entry point).
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from newsgraph.serve import worker_main; worker_main(int(sys.argv[1]))",
             str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send((source, memory))
        self.ready = False

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait for the worker to have opened its graph; _Overtime if it has not within ``timeout``."""
        if self.ready:
            return
        if not self.conn.poll(max(timeout, 0)):
            raise _Overtime
        try:
            status, message = self.conn.recv()
        except (EOFError, OSError):
            raise StoreError("the query worker stopped while opening the graph") from None
        if status != "ready":
            raise StoreError(message)
        self.ready = True

    def send(self, job: dict) -> None:
        self.conn.send(job)

    def receive(self, timeout: float) -> tuple:
        """The answer to the job sent; _Overtime if it takes longer than ``timeout``, and the job runs on."""
        if not self.conn.poll(max(timeout, 0)):
            raise _Overtime
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            # Past its address-space cap, Oxigraph's allocator aborts the process (Rust's alloc error handler)
            if self.process.wait() == -6:  # SIGABRT
                raise _OutOfMemory from None
            raise

    def lower_priority(self) -> None:
        try:  # raising another process's niceness needs no privilege; lowering it again would
            os.setpriority(os.PRIO_PROCESS, self.process.pid, SLOW_NICENESS)
        except OSError:
            pass

    def kill(self, wait: bool = True) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.conn.close()
        if wait:
            self.process.wait()
        else:  # a process at the slow lane's priority may take its time to exit: answer first, reap it after
            threading.Thread(target=self.process.wait, daemon=True).start()


# A query still running after this many seconds is slow: it leaves the quick lane (see Pool).
SLOW_AFTER = 0.2
SLOW_NICENESS = 19  # the slow lane's CPU priority: it runs on what the quick lane leaves
REMEMBERED = 4096  # slow queries remembered, the oldest forgotten first


class Pool:
    """Worker processes for queries, in two lanes, so that runaway queries cannot starve the quick ones.

    Every query starts in the quick lane, ``size`` workers at normal CPU priority. One still running after
    SLOW_AFTER is slow: its worker drops to the lowest CPU priority and leaves the quick lane, where a fresh
    worker takes its place, and the query is remembered, so that when it is asked again it goes straight to
    the slow lane. That lane runs at most ``size`` queries at once, on workers started when first needed and
    kept at the low priority; a query that turns slow while it is full is stopped and waits for a place in it.
    After the first slow query a spare worker is kept open, so a worker leaving the quick lane is replaced at once.
    A job's time limit counts from when it was asked, waiting included: at its limit it is answered, whatever
    it was doing; a query over it costs its worker, which is replaced. Updates have one lane, the one writer.
    """

    def __init__(self, source: _Source, size: int, memory: int = DEFAULT_MEMORY, lanes: bool = True):
        self.source = source
        self.size = size
        self.memory = memory
        self.lanes = lanes
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._quick: queue.Queue[_Worker] = queue.Queue()
        self._slow: queue.Queue[_Worker | None] = queue.Queue()  # a None is a place with no worker started yet
        self._spares: queue.Queue[_Worker] = queue.Queue()
        self._slow_queries: dict[tuple, None] = {}  # insertion-ordered: the oldest is forgotten first
        started = [self._start() for _ in range(size)]
        try:
            for w in started:
                w.wait_ready()  # a graph that cannot be opened is reported before the server listens
        except _Overtime:
            self.close()
            raise StoreError(f"the query worker did not open the graph within {START_TIMEOUT:g} s") from None
        except BaseException:
            self.close()
            raise
        for w in started:
            self._quick.put(w)
        for _ in range(size if lanes else 0):
            self._slow.put(None)

    def _start(self, slow: bool = False) -> _Worker:
        w = _Worker(self.source, self.memory)
        if slow:
            w.lower_priority()
        with self._lock:
            self._all.add(w)
        return w

    def _spare(self) -> _Worker:
        """A worker for the quick lane in place of one that left it: the spare, already open, if there is one.
        The first slow query starts the spare; from then on there is always one ready or opening."""
        try:
            w = self._spares.get_nowait()
        except queue.Empty:
            w = self._start()
        self._spares.put(self._start())
        return w

    def _drop(self, w: _Worker) -> None:
        w.kill(wait=False)
        with self._lock:
            self._all.discard(w)

    def ask(self, job: dict, timeout: float) -> tuple:
        """Run one job; raises QueryError when it runs out of time, StoreError when its worker fails."""
        deadline = time.monotonic() + timeout
        key = (" ".join(job["text"].split()), tuple(job["default"]), tuple(job["named"])) \
            if self.lanes and job["op"] == "query" else None
        if key is not None and key in self._slow_queries:
            return self._ask_slow(job, key, deadline, timeout)
        w = self._take(self._quick, deadline, timeout)
        lane = self._quick
        try:
            w.send(job)
            try:
                reply = w.receive(min(SLOW_AFTER, deadline - time.monotonic()) if key else deadline - time.monotonic())
            except _Overtime:
                if key is None or time.monotonic() >= deadline:
                    raise
                # Slow: off the quick lane, which gets a fresh worker; on in the slow lane if it has a place.
                self._remember(key)
                self._quick.put(self._spare())
                lane = None
                w.lower_priority()
                try:
                    place = self._slow.get_nowait()
                except queue.Empty:
                    self._drop(w)
                    w = None
                    return self._ask_slow(job, key, deadline, timeout)
                if place is not None:
                    self._drop(place)  # the slow lane keeps this worker, already at its priority, instead
                lane = self._slow
                reply = w.receive(deadline - time.monotonic())
            return self._checked(w, reply)
        except BaseException as e:
            w = self._failed(w, e, timeout, lane)
            raise self._error(e, timeout) from None
        finally:
            if lane is not None:
                lane.put(w)

    def _ask_slow(self, job: dict, key: tuple, deadline: float, timeout: float) -> tuple:
        w = self._take(self._slow, deadline, timeout)
        try:
            if w is None:
                w = self._start(slow=True)
            w.wait_ready(deadline - time.monotonic())
            w.send(job)
            started = time.monotonic()
            reply = self._checked(w, w.receive(deadline - started))
            if time.monotonic() - started < SLOW_AFTER:  # quick now (a warm cache, a smaller graph): forget it
                self._slow_queries.pop(key, None)
            return reply
        except BaseException as e:
            w = self._failed(w, e, timeout, self._slow)
            raise self._error(e, timeout) from None
        finally:
            self._slow.put(w)

    def _take(self, lane: queue.Queue, deadline: float, timeout: float):
        try:
            w = lane.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise QueryError(f"stopped after {timeout:g} s, the server's time limit, "
                             "waiting for a free worker: the server is busy") from None
        if w is not None and not w.ready:  # a replacement still opening the graph
            try:
                w.wait_ready(deadline - time.monotonic())
            except BaseException as e:
                if not isinstance(e, _Overtime):
                    w = self._failed(w, e, timeout, lane)
                lane.put(w)
                raise self._error(e, timeout) from None
        return w

    def _checked(self, w: _Worker, reply: tuple) -> tuple:
        if reply[3].get(_RETIRE):  # the worker ran out of memory in Python: its heap may be in pieces
            raise _Retire(reply[:3] + ({k: v for k, v in reply[3].items() if k != _RETIRE},))
        return reply

    def _failed(self, w: _Worker | None, e: BaseException, timeout: float, lane) -> _Worker | None:
        """After a job failed on ``w``: the worker its lane goes on with (a fresh one, if ``w`` may be broken)."""
        if w is None or not isinstance(e, (_Overtime, _OutOfMemory, _Retire, StoreError, EOFError, OSError)):
            return w
        self._drop(w)
        if lane is self._slow:
            return None  # started when the slow lane next needs it
        return self._start()

    def _error(self, e: BaseException, timeout: float) -> BaseException:
        if isinstance(e, _Retire):
            return _Answered(e.reply)
        if isinstance(e, _Overtime):
            return QueryError(f"stopped after {timeout:g} s, the server's time limit")
        if isinstance(e, _OutOfMemory):
            return StoreError(_NO_MEMORY.format(self.memory) + "; its worker has been restarted")
        if isinstance(e, (EOFError, OSError)):
            return StoreError("the query worker stopped unexpectedly (out of memory?); it has been restarted")
        return e

    def _remember(self, key: tuple) -> None:
        self._slow_queries[key] = None
        while len(self._slow_queries) > REMEMBERED:
            try:
                del self._slow_queries[next(iter(self._slow_queries))]
            except (StopIteration, KeyError, RuntimeError):  # another thread got there first
                break

    def close(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), set()
        for w in workers:
            w.kill()


class _Retire(Exception):
    """A worker answered, but must be replaced: ``reply`` is its answer."""

    def __init__(self, reply: tuple):
        self.reply = reply


class _Answered(Exception):
    def __init__(self, reply: tuple):
        self.reply = reply


def worker_main(fd: int) -> None:
    """A worker process: open the graph, then answer jobs until the server goes."""
    import signal

    from .guard import no_network

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the server stops us
    no_network()  # a worker talks to the server over its socket pair only: no query or update can connect anywhere
    conn = Connection(fd)
    parent = os.getppid()

    def orphaned() -> None:  # a killed server must not leave a runaway query behind
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    try:
        source, memory = conn.recv()
        graph = _open(source)
        _cap_memory(memory)
    except (EOFError, OSError):
        return
    except NewsgraphError as e:
        conn.send(("error", str(e)))
        return
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = _do(graph, source, job)
        except MemoryError:
            reply = _text(503, _NO_MEMORY.format(memory))
            reply[3][_RETIRE] = "1"
        except Exception as e:  # a bug must not take the worker down
            reply = (500, "text/plain; charset=utf-8", f"internal error: {type(e).__name__}: {e}\n".encode(), {})
        conn.send(reply)


_RETIRE = "Newsgraph-Retire-Worker"  # a reply's header that tells the pool to replace its worker, never sent on


def _cap_memory(memory: int) -> None:
    """Cap this process's address space at what it holds now, plus a query thread's stack, plus ``memory`` MB."""
    import resource

    from .query import QUERY_STACK

    with open("/proc/self/statm") as f:
        held = int(f.read().split()[0]) * resource.getpagesize()
    limit = held + QUERY_STACK + (memory << 20)
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def _open(source: _Source):
    """The worker's graph: a store read-only, under the server's lock, unless the worker is its one writer."""
    return source.where.open(writable=source.writable, shared=True)


def _text(status: int, message: str) -> tuple:
    return (status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode("utf-8"), {})


def _do(graph, source: _Source, job: dict) -> tuple:
    """One job in the worker: a query, an update or the network page; returns (status, type, body, headers)."""
    if job["op"] == "query":
        return _query(graph, job)
    if job["op"] == "update":
        return _update(graph, job)
    return _network(graph, job["heading"])


def _query(graph, job: dict) -> tuple:
    import pyoxigraph as ox

    from .query import render, run

    dataset = {"default_graphs": job["default"], "named_graphs": job["named"]} if job["default"] or job["named"] else {}
    try:
        result = run(graph, job["text"], timeout=None, max_rows=job["max_rows"], base=job["base"], **dataset)
    except QueryError as e:  # an invalid query, or an invalid IRI in default-graph-uri or named-graph-uri
        return _text(400, str(e))
    headers = {TRUNCATED: str(job["max_rows"])} if result.truncated else {}
    if result.kind != "graph":
        fmt = job["results"]
        try:
            return 200, _RESULT_MEDIA[fmt], render(result, fmt).encode("utf-8"), headers
        except QueryError as e:  # a result the format asked for cannot hold
            return _text(406, str(e))
    media = job["graph"]
    if media == "text/turtle":
        body = render(result).encode("utf-8")
    else:
        from .store import RDF_FORMATS

        fmt = {"application/n-triples": RDF_FORMATS["nt"], "application/rdf+xml": ox.RdfFormat.RDF_XML,
               "application/ld+json": RDF_FORMATS["jsonld"]}[media]
        buf = io.BytesIO()
        ox.serialize(sorted(result.triples or [], key=str), buf, fmt)
        body = buf.getvalue()
    return 200, media + ("; charset=utf-8" if media.startswith("text/") else ""), body, headers


def _update(graph, job: dict) -> tuple:
    from .query import update_syntax_error

    text, base = job["text"], job["base"]
    for probe in job["probes"]:  # each place a USING clause went must be one the engine reads
        if update_syntax_error(probe, base) is None:
            return _text(400, "cannot apply using-graph-uri or using-named-graph-uri to this update: a WHERE of it is not "
                              "where newsgraph reads one; put the dataset in USING clauses instead")
    try:
        graph.update(text, prefixes=PREFIXES, base=base)
        graph.flush()  # a file is written back
    except QueryError as e:
        original = update_syntax_error(job["original"], base) if text != job["original"] else None
        if original is not None:  # say what is wrong with the update as sent, at its own line and column
            return _text(400, f"invalid SPARQL update: {first_line(original)}")
        return _text(400, str(e))
    except StoreError as e:
        return _text(500, str(e))
    return 204, "text/plain; charset=utf-8", b"", {}


def _network(graph, heading: str) -> tuple:
    from .export import export

    with tempfile.TemporaryDirectory(prefix="newsgraph-serve-") as tmp:
        out = os.path.join(tmp, "network.html")
        export(graph, out, heading=heading)
        with open(out, "rb") as f:
            return 200, "text/html; charset=utf-8", f.read(), {"Content-Security-Policy": _NETWORK_CSP}


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
        job = {"op": "query", "text": text, "results": results, "graph": graph, "max_rows": self.settings.max_rows,
               "default": request.values.getlist("default-graph-uri"), "named": request.values.getlist("named-graph-uri"),
               "base": base}
        return self.answer(job)

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
        response = self.answer({"op": "update", "text": rewrite.text, "original": text, "probes": rewrite.probes,
                                "base": base})
        if response.status_code < 300:
            self._generation += 1
        return response

    def answer(self, job: dict) -> Response:
        try:
            status, media, body, headers = self.pool.ask(job, self.settings.timeout)
        except _Answered as e:
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
                reply = self.pool.ask({"op": "network", "heading": f"newsgraph: {self.name}"}, self.settings.timeout)
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


def _source(location: str, allow_update: bool) -> _Source:
    where = locate(location)
    if where.reaches_network:
        raise FormatError(f"'{location}' is a SPARQL endpoint already; newsgraph serves a file or a store directory")
    if allow_update and not where.keeps_documents:  # a file of triples cannot keep documents apart
        raise FormatError(f"updates need a store directory or a .nq or .trig file, which keep each document's "
                          f"graph, not '{location}'", setting="allow_update")
    return _Source(where, writable=allow_update)


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
