"""Where graphs live: RDF files, or a persistent embedded Oxigraph store.

Nothing outside this module knows which. :func:`open_target` gives a
:class:`Graph` that can take documents (one transaction each) and answer
SPARQL; :func:`open_source` opens any file or store ``build`` writes.

A target that names a file (``out.ttl``) is built in memory and written when
the build finishes, through a temporary file, so a failed build never leaves
half a file. A target that is a directory is an Oxigraph store: each document
is one transaction, so a killed build leaves whole documents only. An
``http(s)://`` location is a SPARQL endpoint, read and written over HTTP by
:class:`newsgraph.remote.RemoteGraph`, a Graph too.

Each document is a named graph; the default graph holds their merge (every
triple once), kept up to date with each document and queried by default.
Oxigraph's own union of graphs (before 0.6) would count a triple once per
document that states it, so a store and the file built from the same articles
would give different answers.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox

from .errors import FormatError, StoreError
from .files import atomic_write
from .resources import PREFIXES, ng

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
# Formats newsgraph reads but does not write.
READ_ONLY_FORMATS: dict[str, ox.RdfFormat] = {"rdf": ox.RdfFormat.RDF_XML, "owl": ox.RdfFormat.RDF_XML, "n3": ox.RdfFormat.N3}
_STORE_MARKERS = ("CURRENT", "IDENTITY")
# RocksDB keeps what it is written in memory tables, per index, until they are flushed: without a flush
# every so often a long build's memory grows with the store (70 MB per 1,000 short articles).
FLUSH_QUADS = 50_000
MERGED = ox.DefaultGraph()
# Takes the triples of the document graph %(g)s out of the merge unless another graph states them too.
_UNMERGE = ("DELETE { ?s ?p ?o } WHERE { GRAPH %(g)s { ?s ?p ?o } "
            "FILTER NOT EXISTS { GRAPH ?other { ?s ?p ?o } FILTER(?other != %(g)s) } }")
# Counted by the engine (iterating quads() in Python costs a lookup per quad: minutes on a big store).
# A FILTER NOT EXISTS per triple, to find the merge's triples no document states, takes 25 s on a
# million triples; the distinct stated triples, subtracted from the merge that holds them all, 3 s.
_COUNT_NAMED = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
_COUNT_STATED = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
_COUNT_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def replace_update(g: ox.NamedNode, ntriples: str) -> str:
    """SPARQL Update that makes ``ntriples`` the whole of document graph ``g`` and keeps the merge right."""
    return f"{_UNMERGE % {'g': g}} ;\nDROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{ {ntriples} }} {ntriples} }}"


def remove_update(g: ox.NamedNode) -> str:
    """SPARQL Update that takes document graph ``g``, and what only it states, out of the dataset."""
    return f"{_UNMERGE % {'g': g}} ;\nDROP GRAPH {g}"


def rdf_format(path: str | os.PathLike, readable: bool = False) -> ox.RdfFormat:
    """The RDF format a file name's suffix picks; raises :class:`FormatError` for others."""
    suffix = Path(path).suffix.lower().lstrip(".")
    table = {**RDF_FORMATS, **(READ_ONLY_FORMATS if readable else {})}
    if suffix in table:
        return table[suffix]
    choices = ", ".join(table)
    raise FormatError(f"unknown format '{suffix or Path(path).name}' for '{path}'; choose one of {choices}, or a directory for an embedded store")


def is_store_dir(path: Path) -> bool:
    return path.is_dir() and any((path / m).exists() for m in _STORE_MARKERS)


# The files RocksDB makes in a store directory, the first of them (LOG, LOCK) before CURRENT and IDENTITY.
_ROCKSDB_FILE = re.compile(r"LOG(\.old\.\d+)?|LOCK|CURRENT|IDENTITY|(MANIFEST|OPTIONS)-\d+|\d+\.(log|sst|blob)|.*\.dbtmp")


def _being_made(path: Path) -> bool:
    """Whether a directory holds only RocksDB's files: a store another process is creating right now."""
    names = [entry.name for entry in path.iterdir()]
    return bool(names) and all(_ROCKSDB_FILE.fullmatch(name) for name in names)


def _open_store(path: Path, create: bool) -> ox.Store:
    if path.exists() and not path.is_dir():
        raise StoreError(f"'{path}' is not a directory, so it cannot be an embedded store")
    if path.is_dir() and not is_store_dir(path) and not _being_made(path) and any(path.iterdir()):
        raise StoreError(f"'{path}' is a directory that is neither empty nor an Oxigraph store; choose an empty or new directory")
    if not path.exists() and not create:
        raise StoreError(f"no graph at '{path}'")
    try:
        return ox.Store(str(path))
    except (OSError, RuntimeError) as e:  # RocksDB reports a damaged store as RuntimeError
        text = str(e)
        if "lock" in text.lower():
            raise StoreError(f"store '{path}' is in use by another process") from None
        raise StoreError(f"cannot open store '{path}': {text.splitlines()[0] if text else type(e).__name__}") from None


def _open_read_only(path: Path) -> tuple[ox.Store, object]:
    """A store directory this process cannot write, opened read-only, and the lock that keeps writers out meanwhile.

    Oxigraph's read-only mode takes no lock, and reading while another process writes is undefined: a
    shared lock on the store's LOCK file (where RocksDB takes its own) makes a writer wait its turn.
    """
    import fcntl

    lock = None
    try:
        lock = open(path / "LOCK", "rb")
        fcntl.lockf(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except FileNotFoundError:
        lock = None
    except OSError:
        if lock is not None:
            lock.close()
        raise StoreError(f"store '{path}' is in use by another process") from None
    try:
        return ox.Store.read_only(str(path)), lock
    except (OSError, RuntimeError) as e:
        if lock is not None:
            lock.close()
        text = str(e)
        raise StoreError(f"cannot open store '{path}' read-only: {text.splitlines()[0] if text else type(e).__name__}") from None


class Graph:
    """A graph newsgraph reads from or builds into."""

    def __init__(self, store: ox.Store, location: str, file_format: ox.RdfFormat | None = None):
        self.store = store
        self.location = location
        self.file_format = file_format  # set when the graph is written to a file on close
        self.read_format: ox.RdfFormat | None = None  # set when the graph was read from a file
        self.base: str | None = None  # the IRI relative IRIs in queries resolve against, by default
        self.changed = False
        self._unflushed = 0  # quads written since the store last flushed its memory tables to disk
        self.lock = None  # the shared lock of a store opened read-only

    # -------------------------------------------------------------- writing

    def has_document(self, doc: str, digest: str) -> bool:
        """Whether the store already holds this document with this content hash."""
        quads = self.store.quads_for_pattern(
            ox.NamedNode(doc), ox.NamedNode(ng("contentHash")), ox.Literal(digest), ox.NamedNode(doc)
        )
        return next(iter(quads), None) is not None

    def document_id(self, doc: str) -> str | None:
        """The id of the article stored as document ``doc``, or None if there is none."""
        d = ox.NamedNode(doc)
        found = next(iter(self.store.quads_for_pattern(d, ox.NamedNode(ng("documentId")), None, d)), None)
        return None if found is None else found.object.value

    def put_document(self, doc: str, quads: Iterable[ox.Quad]) -> None:
        """Store one document's quads (and their merge) in one transaction, replacing an older version of it."""
        self.put_ntriples(doc, ntriples(quads))

    def put_ntriples(self, doc: str, data: bytes) -> None:
        """Store one document's triples, N-Triples as :func:`ntriples` writes them, in its graph ``doc``
        and in the merge, in one transaction; an older version of the document is replaced."""
        g = ox.NamedNode(doc)
        try:
            if self.store.contains_named_graph(g):
                self.store.update(replace_update(g, data.decode("utf-8")))
            else:  # the graph's quads and the merge's triples, parsed and written by Oxigraph alone;
                # N-Triples escapes line breaks in literals, so each b" .\n" ends a triple
                named = data.replace(b" .\n", b" %s .\n" % str(g).encode())
                self.store.load(named + data, format=ox.RdfFormat.N_QUADS)
            self._unflushed += data.count(b"\n")
            if self._unflushed >= FLUSH_QUADS and self.file_format is None:
                self.store.flush()
                self._unflushed = 0
        except OSError as e:
            raise StoreError(f"cannot write to '{self.location}': {e}") from None
        self.changed = True

    def remove_document(self, doc: str) -> bool:
        """Remove everything one document contributed; returns whether it was there."""
        g = ox.NamedNode(doc)
        if not self.store.contains_named_graph(g):
            return False
        self.store.update(remove_update(g))
        self.changed = True
        return True

    # -------------------------------------------------------------- reading

    def query(self, sparql: str, **kwargs):
        """Run SPARQL on Oxigraph's engine; the default graph is the merge of all documents."""
        return self.store.query(sparql, **kwargs)

    def triples(self) -> Iterable[ox.Triple]:
        """Every distinct triple, documents' graphs merged."""
        for q in self.store.quads_for_pattern(None, None, None, MERGED):
            yield ox.Triple(q.subject, q.predicate, q.object)

    def quads(self) -> Iterable[ox.Quad]:
        """The quads a dataset holds: the documents' graphs, and default-graph triples no document states."""
        for q in self.store.quads_for_pattern(None, None, None, None):
            if q.graph_name == MERGED and self._stated(q):
                continue  # the merged copy of a document's triple
            yield q

    def _stated(self, q: ox.Quad) -> bool:
        """Whether some document's graph states the triple of ``q``."""
        return any(x.graph_name != MERGED for x in self.store.quads_for_pattern(q.subject, q.predicate, q.object, None))

    def dump(self, path: str | os.PathLike, fmt: ox.RdfFormat) -> None:
        """Write the graph as RDF: datasets keep one graph per document, triple formats merge them."""
        atomic_write(Path(path), lambda f: self._serialize(f, fmt))

    def serialize(self, fmt: ox.RdfFormat) -> bytes:
        import io

        buf = io.BytesIO()
        self._serialize(buf, fmt)
        return buf.getvalue()

    def _serialize(self, out, fmt: ox.RdfFormat) -> None:
        prefixes = {k: v for k, v in PREFIXES.items()} if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
        if fmt.supports_datasets:
            quads = sorted(self.quads(), key=_quad_key)
            ox.serialize(quads, out, fmt, prefixes=prefixes) if prefixes else ox.serialize(quads, out, fmt)
        else:
            triples = sorted(self.triples(), key=_triple_key)
            ox.serialize(triples, out, fmt, prefixes=prefixes) if prefixes else ox.serialize(triples, out, fmt)

    def __len__(self) -> int:
        return self.statements()

    def statements(self, fmt: ox.RdfFormat | None = None) -> int:
        """How many statements the graph holds as a file of format ``fmt`` (default: the file it is written
        to or was read from): quads for a dataset format, triples for others. A store or an endpoint
        counts its triples (the merge, as a query of the default graph counts them)."""
        fmt = fmt or self.file_format or self.read_format
        triples = self._count(_COUNT_TRIPLES)
        if fmt is None or not fmt.supports_datasets:
            return triples
        # What dump() writes: the documents' quads, and the merge's triples that no document states.
        return self._count(_COUNT_NAMED) + triples - self._count(_COUNT_STATED)

    def _count(self, sparql: str) -> int:
        return int(next(iter(self.query(sparql)))["n"].value)

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Finish: write the file for file targets; flush a store and let go of it, which unlocks it."""
        try:
            if self.file_format is not None:
                self.dump(self.location, self.file_format)
            elif self.store is not None:
                try:
                    self.store.flush()
                except OSError:
                    pass
                self.store = None  # the directory stays locked while any reference to the Store lives
        finally:
            if self.lock is not None:
                self.lock.close()
                self.lock = None

    def abandon(self) -> None:
        """Let go without writing anything: after a failed build a file target stays as it was, and unlocked."""
        self.file_format = None
        self.store = None
        if self.lock is not None:
            self.lock.close()
            self.lock = None

    def __enter__(self) -> "Graph":
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.close()


def ntriples(quads: Iterable[ox.Quad]) -> bytes:
    """The triples of ``quads`` as N-Triples, one per line, as :meth:`Graph.put_ntriples` takes them."""
    return ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)


def _quad_key(q: ox.Quad):
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


def _triple_key(t: ox.Triple):
    return (str(t.subject), str(t.predicate), str(t.object))


def open_target(location: str, update_url: str | None = None) -> Graph:
    """A graph to build into: an RDF file (by suffix), a store directory (no suffix, or a trailing slash),
    or the ``http(s)://`` URL of a SPARQL endpoint (its update endpoint found by convention or given)."""
    from .remote import RemoteGraph, is_endpoint

    if is_endpoint(location):
        return RemoteGraph(location, update_url=update_url, writable=True)
    if update_url is not None:
        raise FormatError(f"an update URL goes with a SPARQL endpoint, and '{location}' is not an http(s) URL")
    if location == "-":
        raise FormatError("cannot build into '-': name an RDF file (.ttl .nt .nq .trig .jsonld) or a directory for an embedded store")
    path = Path(location)
    if path.is_dir() or not path.suffix or location.endswith(("/", os.sep)):
        return Graph(_open_store(path, create=True), location)
    fmt = rdf_format(path)
    graph = Graph(ox.Store(), location, file_format=fmt)
    graph.lock = _lock_output(path)
    return graph


def _lock_output(path: Path):
    """Hold ``.NAME.lock`` beside an output file while a build writes it, so a second build is refused, as a store
    refuses it, rather than one overwriting the other's documents; the lock file goes when the build closes."""
    import fcntl

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


def location_iri(path: Path) -> str:
    """The ``file://`` URL of a graph file, or of a store directory (with its trailing slash, so that ``<x>`` is inside it)."""
    iri = path.absolute().as_uri()
    return iri + "/" if path.is_dir() and not iri.endswith("/") else iri


def existing_graph_path(location: str) -> Path:
    """The path of a graph that must exist: an RDF file, or a directory that is an Oxigraph store."""
    path = Path(location)
    if not path.exists():
        raise StoreError(f"no graph at '{location}'")
    if path.is_dir() and not is_store_dir(path):
        raise StoreError(f"'{location}' is a directory but not an Oxigraph store")
    return path


def open_source(location: str, writable: bool = False) -> Graph:
    """An existing graph to read: a store directory, an RDF file, or the ``http(s)://`` URL of a SPARQL endpoint.

    A store directory this process may not write is opened read-only (unless ``writable``, for a change).
    """
    from .remote import RemoteGraph, is_endpoint

    if is_endpoint(location):
        return RemoteGraph(location)
    path = existing_graph_path(location)
    if path.is_dir():
        if not writable and not os.access(path, os.W_OK):
            store, lock = _open_read_only(path)
            graph = Graph(store, location)
            graph.lock = lock
        else:
            graph = Graph(_open_store(path, create=False), location)
        graph.base = location_iri(path)
        return graph
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
    graph = Graph(store, location)
    graph.read_format = fmt
    graph.base = base
    return graph


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
