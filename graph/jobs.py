"""The jobs ``newsgraph serve`` hands its query workers, and the worker process that does them.

The app (:mod:`newsgraph.serve`) turns a request into a :class:`QueryJob`, an :class:`UpdateJob` or a
:class:`NetworkJob`; the pool (:mod:`newsgraph.pool`) sends it to a worker started with :func:`worker_main`,
which opens the :class:`Source` once and answers each job with a :data:`Reply`: ``(status, media type, body,
headers)``, ready to be sent as it is.
"""
from __future__ import annotations

import io
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from .errors import NewsgraphError, QueryError, StoreError, first_line
from .resources import PREFIXES
from .store import Location

Reply = tuple  # (status: int, media type: str, body: bytes, headers: dict[str, str])

TRUNCATED = "Newsgraph-Truncated"  # a reply's header: the result was cut at this many rows
RETIRE = "Newsgraph-Retire-Worker"  # a reply's header that tells the pool to replace its worker, never sent on
NO_MEMORY = "the query ran out of memory: it needs more than the {} MB a query may use here"
_RESULT_MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                 "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8",
                 "table": "text/plain; charset=utf-8"}
_NETWORK_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
                "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@dataclass(frozen=True)
class Source:
    """The graph the workers open (picklable), and whether they may change it."""

    where: Location
    writable: bool


@dataclass(frozen=True)
class QueryJob:
    """A SPARQL query, checked, with the formats its answer is to be given in."""

    text: str
    results: str  # the query.render format of a SELECT or ASK result
    graph: str  # the media type of a CONSTRUCT or DESCRIBE result
    max_rows: int
    default: tuple[str, ...]  # default-graph-uri
    named: tuple[str, ...]  # named-graph-uri
    base: str

    @property
    def key(self) -> tuple:
        """What makes two queries the same one, for remembering the slow ones."""
        return " ".join(self.text.split()), self.default, self.named


@dataclass(frozen=True)
class UpdateJob:
    """A SPARQL update, checked and rewritten with its dataset (:func:`newsgraph.query.with_dataset`)."""

    text: str  # as rewritten
    original: str  # as sent
    probes: tuple[str, ...]
    base: str


@dataclass(frozen=True)
class NetworkJob:
    """The graph's HTML network page."""

    heading: str


Job = QueryJob | UpdateJob | NetworkJob


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
            reply = do(graph, job)
        except MemoryError:
            reply = _text(503, NO_MEMORY.format(memory))
            reply[3][RETIRE] = "1"
        except Exception as e:  # a bug must not take the worker down
            reply = (500, "text/plain; charset=utf-8", f"internal error: {type(e).__name__}: {e}\n".encode(), {})
        conn.send(reply)


def _cap_memory(memory: int) -> None:
    """Cap this process's address space at what it holds now, plus a query thread's stack, plus ``memory`` MB."""
    import resource

    from .query import QUERY_STACK

    with open("/proc/self/statm") as f:
        held = int(f.read().split()[0]) * resource.getpagesize()
    limit = held + QUERY_STACK + (memory << 20)
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def _open(source: Source):
    """The worker's graph: a store read-only, under the server's lock, unless the worker is its one writer."""
    return source.where.open(writable=source.writable, shared=True)


def _text(status: int, message: str) -> Reply:
    return (status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode("utf-8"), {})


def do(graph, job: Job) -> Reply:
    """One job in the worker: a query, an update or the network page."""
    if isinstance(job, QueryJob):
        return _query(graph, job)
    if isinstance(job, UpdateJob):
        return _update(graph, job)
    return _network(graph, job.heading)


def _query(graph, job: QueryJob) -> Reply:
    import pyoxigraph as ox

    from .query import render, run

    dataset = {"default_graphs": list(job.default), "named_graphs": list(job.named)} if job.default or job.named else {}
    try:
        result = run(graph, job.text, timeout=None, max_rows=job.max_rows, base=job.base, **dataset)
    except QueryError as e:  # an invalid query, or an invalid IRI in default-graph-uri or named-graph-uri
        return _text(400, str(e))
    headers = {TRUNCATED: str(job.max_rows)} if result.truncated else {}
    if result.kind != "graph":
        fmt = job.results
        try:
            return 200, _RESULT_MEDIA[fmt], render(result, fmt).encode("utf-8"), headers
        except QueryError as e:  # a result the format asked for cannot hold
            return _text(406, str(e))
    media = job.graph
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


def _update(graph, job: UpdateJob) -> Reply:
    from .query import update_syntax_error

    text, base = job.text, job.base
    for probe in job.probes:  # each place a USING clause went must be one the engine reads
        if update_syntax_error(probe, base) is None:
            return _text(400, "cannot apply using-graph-uri or using-named-graph-uri to this update: a WHERE of it is not "
                              "where newsgraph reads one; put the dataset in USING clauses instead")
    try:
        graph.update(text, prefixes=PREFIXES, base=base)
        graph.flush()  # a file is written back
    except QueryError as e:
        original = update_syntax_error(job.original, base) if text != job.original else None
        if original is not None:  # say what is wrong with the update as sent, at its own line and column
            return _text(400, f"invalid SPARQL update: {first_line(original)}")
        return _text(400, str(e))
    except StoreError as e:
        return _text(500, str(e))
    return 204, "text/plain; charset=utf-8", b"", {}


def _network(graph, heading: str) -> Reply:
    from .export import export

    with tempfile.TemporaryDirectory(prefix="newsgraph-serve-") as tmp:
        out = os.path.join(tmp, "network.html")
        export(graph, out, heading=heading)
        with open(out, "rb") as f:
            return 200, "text/html; charset=utf-8", f.read(), {"Content-Security-Policy": _NETWORK_CSP}
