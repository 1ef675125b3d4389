"""Where graphs live: RDF files, an embedded Oxigraph store, or a SPARQL endpoint — nothing else knows which.

:class:`Graph` is what every backend offers: documents in (one transaction each), SPARQL in, newsgraph's
:class:`~newsgraph.results.Result` out. :data:`BACKENDS` is the one table that picks the backend a location
names; :func:`open_target` gives a graph to build into, :func:`open_source` one that exists, and
:func:`locate` finds one without opening it, for processes that open it themselves (the server's workers).

* An ``http(s)://`` location is a SPARQL endpoint, read and written over HTTP (:mod:`newsgraph.remote`).
* A directory is an embedded Oxigraph store (:mod:`newsgraph.embedded`): each document is one transaction,
  so a killed build leaves whole documents only.
* A file (``out.ttl``) is read into memory, and built in memory and written when the build finishes,
  through a temporary file, so a failed build never leaves half a file (:class:`FileGraph`).

All three keep one layout (:mod:`newsgraph.layout`): each document is a named graph, and the default graph
holds their merge, so a store, a file and an endpoint built from the same articles give the same answers.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import pyoxigraph as ox

from .embedded import OxigraphGraph, existing_graph_path, hold_off_writers, is_store_dir, location_iri, refuse_update_url
from .errors import FormatError, StoreError
from .files import atomic_write
from .layout import MERGED, count_statements, ntriples
from .remote import RemoteGraph
from .resources import PREFIXES
from .results import Result, Term

# MERGED, ntriples and is_store_dir are the layout's and the embedded store's, named here for callers of the store.
__all__ = ["BACKENDS", "Backend", "FileGraph", "Graph", "Location", "MERGED", "RDF_FORMATS", "backend",
           "dump", "is_store_dir", "locate", "ntriples", "open_source", "open_target", "rdf_format", "write_triples"]

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
# Formats newsgraph reads but does not write.
READ_ONLY_FORMATS: dict[str, ox.RdfFormat] = {"rdf": ox.RdfFormat.RDF_XML, "owl": ox.RdfFormat.RDF_XML, "n3": ox.RdfFormat.N3}


class Graph(Protocol):
    """A graph newsgraph builds into or reads from, whichever backend keeps it.

    Writing goes by document: ``put_ntriples`` makes a document's triples the whole of its named graph (and
    keeps the merge right), ``remove_document`` takes it out. Reading is SPARQL: ``query`` answers with a
    :class:`~newsgraph.results.Result`, cut after ``max_rows`` solutions or triples; ``triples`` and
    ``quads`` give the whole of it, as a dump writes it.
    """

    location: str  # as the user named it
    base: str | None  # the IRI relative IRIs in queries resolve against by default (None: the backend's own)

    @property
    def reaches_network(self) -> bool:
        """Whether its queries leave the process (query.run then leaves the thread's sockets alone)."""

    @property
    def keeps_documents(self) -> bool:
        """Whether each document's graph is kept apart, so that it can be replaced or removed."""

    def has_document(self, doc: str, digest: str) -> bool:
        """Whether the graph holds document ``doc`` with this content hash."""

    def document_id(self, doc: str) -> str | None:
        """The id of the article stored as document ``doc``, or None."""

    def put_document(self, doc: str, quads: Iterable[ox.Quad]) -> None:
        """Store one document's quads, as :meth:`put_ntriples` does."""

    def put_ntriples(self, doc: str, data: bytes) -> None:
        """Make ``data`` (N-Triples, as :func:`newsgraph.layout.ntriples` writes them) the whole of document ``doc``."""

    def remove_document(self, doc: str) -> bool:
        """Remove everything only document ``doc`` contributed; returns whether it was there."""

    def update(self, sparql: str, prefixes: Mapping[str, str] | None = None, base: str | None = None) -> None:
        """Run a SPARQL Update; :class:`QueryError` if it is invalid, :class:`StoreError` if it fails."""

    def flush(self) -> None:
        """Send what was written so far where the graph lives: an endpoint gets the queued documents, a file
        opened to be written is rewritten; a store has it already."""

    def query(self, sparql: str, prefixes: Mapping[str, str] | None = None, base: str | None = None,
              substitutions: Mapping[ox.Variable, Term] | None = None, default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None, max_rows: int | None = None) -> Result:
        """Answer SPARQL; the default graph is the documents' merge unless ``default_graphs`` or ``named_graphs``
        name the dataset (a side left out is then empty)."""

    def triples(self) -> Iterable[ox.Triple]:
        """Every distinct triple, documents' graphs merged."""

    def quads(self) -> Iterable[ox.Quad]:
        """The documents' graphs, and default-graph triples no document states."""

    def statements(self, fmt: ox.RdfFormat | None = None) -> int:
        """How many statements the graph holds as a file of format ``fmt`` (quads for a dataset format)."""

    def __len__(self) -> int:
        """:meth:`statements` by default."""

    def close(self) -> None:
        """Finish: write what is still to be written, and let go (a store is unlocked)."""

    def abandon(self) -> None:
        """Let go without writing anything more: after a failed build a file stays as it was."""

    def __enter__(self) -> Graph:
        """The graph itself."""

    def __exit__(self, exc_type, *_) -> None:
        """:meth:`close`, unless an exception is leaving."""


class Backend(Protocol):
    """The class side of a backend: which locations it claims, and how it opens them."""

    @property
    def reaches_network(self) -> bool:
        """Whether its graphs' queries leave the process."""

    def claims(self, location: str, create: bool) -> bool:
        """Whether ``location`` names a graph of this backend (to build into, if ``create``)."""

    def create(self, location: str, update_url: str | None = None) -> Graph:
        """The graph at ``location`` to build into."""

    def open(self, location: str, writable: bool = False, shared: bool = False) -> Graph:
        """The existing graph at ``location``: ``writable`` for a change, ``shared`` with other reading processes."""


class FileGraph(OxigraphGraph):
    """An RDF file as a graph: read into an in-memory Oxigraph store; built, or changed, in memory and written
    whole when flushed or closed, through a temporary file (:func:`atomic_write`).

    The file's format, by suffix, is its ``format``; a dataset format (``.nq``, ``.trig``) keeps each
    document's graph, the others keep the merge only.
    """

    on_disk = False

    def __init__(self, store: ox.Store, location: str, fmt: ox.RdfFormat, writes: bool, base: str | None = None,
                 lock: IO | None = None):
        super().__init__(store, location, base=base, lock=lock)
        self.format = fmt
        self.writes = writes  # whether flush() and close() write the file
        self.keeps_documents = fmt.supports_datasets

    @staticmethod
    def claims(location: str, create: bool) -> bool:
        """Any location the other backends leave: a file, its format named by its suffix."""
        return True

    @classmethod
    def create(cls, location: str, update_url: str | None = None) -> FileGraph:
        """A new, empty graph written to the file ``location`` when closed; a lock beside the file keeps a second
        build out meanwhile."""
        refuse_update_url(location, update_url)
        if location == "-":
            raise FormatError("cannot build into '-': name an RDF file (.ttl .nt .nq .trig .jsonld) or a directory for an embedded store")
        path = Path(location)
        fmt = rdf_format(path)
        return cls(ox.Store(), location, fmt, writes=True, lock=_lock_output(path))

    @classmethod
    def open(cls, location: str, writable: bool = False, shared: bool = False) -> FileGraph:
        """The RDF file ``location``, read; ``writable``: written back when flushed or closed."""
        path = existing_graph_path(location)
        fmt = rdf_format(path, readable=True)
        if fmt == ox.RdfFormat.RDF_XML:
            _refuse_doctype(path)
        store = ox.Store()
        base = location_iri(path)  # a relative IRI in the file is relative to the file, as RDF parsers resolve it
        try:
            if fmt.supports_datasets:
                store.load(path=str(path), format=fmt, base_iri=base)
                store.extend([ox.Quad(q.subject, q.predicate, q.object, MERGED)
                              for q in store.quads_for_pattern(None, None, None, None) if q.graph_name != MERGED])
            else:
                store.load(path=str(path), format=fmt, to_graph=ox.DefaultGraph(), base_iri=base)
        except SyntaxError as e:
            raise StoreError(f"'{location}' is not valid {fmt.name}: {str(e).splitlines()[0]}") from None
        except (OSError, ValueError) as e:
            raise StoreError(f"cannot read '{location}': {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        return cls(store, location, fmt, writes=writable, base=base)

    def statements(self, fmt: ox.RdfFormat | None = None) -> int:
        """How many statements the graph holds as a file of format ``fmt``, by default the format of its file."""
        return count_statements(self.query, fmt or self.format)

    def flush(self) -> None:
        """Write the file, if the graph is to be written and still open."""
        if self.writes and self.store is not None:
            dump(self, self.location, self.format)

    def close(self) -> None:
        """Write the file (if the graph is to be written) and let go, also of the lock beside it."""
        try:
            self.flush()
        finally:
            self.abandon()


# The backends, each with the locations it claims: the first that claims a location is the one that opens it.
BACKENDS: dict[str, Backend] = {
    "endpoint": RemoteGraph,  # an http(s):// URL
    "store": OxigraphGraph,  # a directory (to build into: a name without a suffix, or with a trailing slash)
    "file": FileGraph,  # anything else, by its suffix
}


def backend(location: str, create: bool = False) -> str:
    """The key in :data:`BACKENDS` of the backend ``location`` names (to build into, if ``create``).

    >>> backend("http://127.0.0.1:7878/query"), backend("graph.ttl"), backend("store/", create=True)
    ('endpoint', 'file', 'store')
    """
    return next(kind for kind, b in BACKENDS.items() if b.claims(location, create))


def open_target(location: str, update_url: str | None = None) -> Graph:
    """A graph to build into: an RDF file (by suffix), a store directory (no suffix, or a trailing slash),
    or the ``http(s)://`` URL of a SPARQL endpoint (its update endpoint found by convention or given)."""
    return BACKENDS[backend(location, create=True)].create(location, update_url=update_url)


def open_source(location: str, writable: bool = False) -> Graph:
    """An existing graph to read: a store directory, an RDF file, or the ``http(s)://`` URL of a SPARQL endpoint.

    A store directory this process may not write is opened read-only (unless ``writable``, for a change);
    a file opened ``writable`` is written back when closed.
    """
    return BACKENDS[backend(location)].open(location, writable=writable)


@dataclass(frozen=True)
class Location:
    """An existing graph, found without opening it; picklable, so that other processes can open it too."""

    location: str
    kind: str  # its backend's key in BACKENDS
    keeps_documents: bool  # see Graph.keeps_documents

    @property
    def reaches_network(self) -> bool:
        return BACKENDS[self.kind].reaches_network

    def open(self, writable: bool = False, shared: bool = False) -> Graph:
        """The graph, opened (``shared``: by one of several processes that read it, under :meth:`hold_off_writers`)."""
        return BACKENDS[self.kind].open(self.location, writable=writable, shared=shared)

    def hold_off_writers(self) -> IO | None:
        """Keep other processes from writing the graph while it is shared: a store's lock, held until closed
        (None for a file or an endpoint, which need none)."""
        return hold_off_writers(Path(self.location)) if self.kind == "store" else None


def locate(location: str) -> Location:
    """Where the existing graph ``location`` is, checked as far as can be without opening it (an endpoint is
    not asked): :class:`StoreError` if there is none, :class:`FormatError` for a file of an unknown format."""
    kind = backend(location)
    if BACKENDS[kind].reaches_network:
        return Location(location, kind, keeps_documents=True)
    path = existing_graph_path(location)
    keeps = kind != "file" or rdf_format(path, readable=True).supports_datasets
    return Location(str(path), kind, keeps_documents=keeps)


# ---------------------------------------------------------------- files


def rdf_format(path: str | os.PathLike, readable: bool = False) -> ox.RdfFormat:
    """The RDF format a file name's suffix picks; raises :class:`FormatError` for others."""
    suffix = Path(path).suffix.lower().lstrip(".")
    table = {**RDF_FORMATS, **(READ_ONLY_FORMATS if readable else {})}
    if suffix in table:
        return table[suffix]
    choices = ", ".join(table)
    network = " (an HTML network is made by export, from a built graph)" if suffix in ("html", "htm") else ""
    raise FormatError(f"unknown format '{suffix or Path(path).name}' for '{path}'; choose one of {choices}, "
                      f"or a directory for an embedded store{network}")


def dump(graph: Graph, path: str | os.PathLike, fmt: ox.RdfFormat) -> None:
    """Write ``graph`` as an RDF file: datasets keep one graph per document, triple formats merge them."""
    if fmt.supports_datasets:
        _write(Path(path), sorted(graph.quads(), key=_quad_key), fmt)
    else:
        _write(Path(path), sorted(graph.triples(), key=_triple_key), fmt)


def write_triples(path: str | os.PathLike, triples: Iterable[ox.Triple], fmt: ox.RdfFormat) -> None:
    """Write ``triples`` as an RDF file (a dataset format holds them in its default graph)."""
    if fmt.supports_datasets:
        _write(Path(path), sorted((ox.Quad(t.subject, t.predicate, t.object) for t in triples), key=_quad_key), fmt)
    else:
        _write(Path(path), sorted(triples, key=_triple_key), fmt)


def _write(path: Path, statements: list[ox.Quad] | list[ox.Triple], fmt: ox.RdfFormat) -> None:
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
        atomic_write(path, lambda f: ox.serialize(statements, f, fmt, prefixes=dict(PREFIXES)))
    else:
        atomic_write(path, lambda f: ox.serialize(statements, f, fmt))


def _quad_key(q: ox.Quad):
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


def _triple_key(t: ox.Triple):
    return (str(t.subject), str(t.predicate), str(t.object))




def _lock_output(path: Path):
    """Hold ``.NAME.lock`` beside an output file while a build writes it, so a second build is refused, as a store
    refuses it, rather than one overwriting the other's documents; the lock file goes when the build closes."""
    lock_path = path.absolute().parent / f".{path.name}.lock"
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            f = open(lock_path, "a+b")
            try:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                raise StoreError(f"'{path}' is being written by another newsgraph build; wait for it to finish") from None
            try:
                if os.stat(lock_path).st_ino == os.fstat(f.fileno()).st_ino:
                    return _OutputLock(f, lock_path)
            except FileNotFoundError:
                pass
            f.close()  # the build before us removed this lock file as we opened it: take the new one
    except OSError as e:
        raise StoreError(f"cannot write '{path}': {e.strerror or e}") from None


class _OutputLock:
    """An output file's lock: closing it removes the lock file, then lets go of the lock."""

    def __init__(self, file, path: Path) -> None:
        self.file, self.path = file, path

    def close(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass
        self.file.close()


def _refuse_doctype(path: Path) -> None:
    """RDF/XML with a DOCTYPE can expand entities into gigabytes: refuse it.

    The whole file is scanned, not just its head: comments of any length may come before a DOCTYPE.
    """
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            window = (tail + chunk).upper()
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                raise StoreError(f"'{path}' declares a DOCTYPE or entities; newsgraph does not read those in RDF/XML")
            tail = chunk[-8:]  # a keyword split between two chunks
