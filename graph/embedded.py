"""An embedded Oxigraph store as a graph: the backend of store directories, and the engine under RDF files.

A store directory holds one transaction per document, so a killed build leaves whole documents only.
The dataset keeps :mod:`newsgraph.layout`: each document a named graph, the default graph their merge.
"""
from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .errors import FormatError, QueryError, StoreError, first_line
from .layout import MERGED, count_statements, ntriples, remove_update, replace_update
from .resources import ng
from .results import Result, Term, from_engine

_STORE_MARKERS = ("CURRENT", "IDENTITY")
# RocksDB keeps what it is written in memory tables, per index, until they are flushed: without a flush
# every so often a long build's memory grows with the store (70 MB per 1,000 short articles).
FLUSH_QUADS = 50_000


class OxigraphGraph:
    """A graph in an Oxigraph store: a store directory, or (under :class:`newsgraph.store.FileGraph`) in memory.

    >>> g = OxigraphGraph(ox.Store(), "scratch")
    >>> g.statements()
    0
    """

    reaches_network = False
    keeps_documents = True

    def __init__(self, store: ox.Store, location: str, base: str | None = None, lock: IO | None = None):
        self.store: ox.Store | None = store
        self.location = location
        self.base = base  # the IRI relative IRIs in queries resolve against, by default
        self.lock = lock  # the shared lock of a store opened read-only
        self._unflushed = 0  # quads written since the store last flushed its memory tables to disk

    @staticmethod
    def claims(location: str, create: bool) -> bool:
        """Whether ``location`` names a store directory: an existing directory, or (to build into) a name without
        a suffix, or with a trailing slash."""
        if Path(location).is_dir():
            return True
        return create and location != "-" and (not Path(location).suffix or location.endswith(("/", os.sep)))

    @classmethod
    def create(cls, location: str, update_url: str | None = None) -> OxigraphGraph:
        """The store directory ``location`` to build into, made if it is not there."""
        refuse_update_url(location, update_url)
        return cls(_open_store(Path(location), create=True), location)

    @classmethod
    def open(cls, location: str, writable: bool = False, shared: bool = False) -> OxigraphGraph:
        """The existing store directory ``location``. One this process may not write is opened read-only (unless
        ``writable``, for a change); so is one ``shared`` with other readers, whose opener holds them a lock
        (:func:`hold_off_writers`)."""
        path = existing_graph_path(location)
        if shared and not writable:
            try:
                return cls(ox.Store.read_only(str(path)), location, base=location_iri(path))
            except (OSError, RuntimeError) as e:
                raise StoreError(f"cannot open store '{location}' read-only: {first_line(e)}") from None
        if not writable and not os.access(path, os.W_OK):
            store, lock = _open_read_only(path)
            return cls(store, location, base=location_iri(path), lock=lock)
        return cls(_open_store(path, create=False), location, base=location_iri(path))

    # -------------------------------------------------------------- writing

    def has_document(self, doc: str, digest: str) -> bool:
        """Whether the store already holds this document with this content hash."""
        quads = self._store.quads_for_pattern(
            ox.NamedNode(doc), ox.NamedNode(ng("contentHash")), ox.Literal(digest), ox.NamedNode(doc)
        )
        return next(iter(quads), None) is not None

    def document_id(self, doc: str) -> str | None:
        """The id of the article stored as document ``doc``, or None if there is none."""
        d = ox.NamedNode(doc)
        found = next(iter(self._store.quads_for_pattern(d, ox.NamedNode(ng("documentId")), None, d)), None)
        return None if found is None else found.object.value

    def put_document(self, doc: str, quads: Iterable[ox.Quad]) -> None:
        """Store one document's quads (and their merge) in one transaction, replacing an older version of it."""
        self.put_ntriples(doc, ntriples(quads))

    def put_ntriples(self, doc: str, data: bytes) -> None:
        """Store one document's triples, N-Triples as :func:`newsgraph.layout.ntriples` writes them, in its graph
        ``doc`` and in the merge, in one transaction; an older version of the document is replaced."""
        g = ox.NamedNode(doc)
        store = self._store
        try:
            if store.contains_named_graph(g):
                store.update(replace_update(g, data.decode("utf-8")))
            else:  # the graph's quads and the merge's triples, parsed and written by Oxigraph alone;
                # N-Triples escapes line breaks in literals, so each b" .\n" ends a triple
                named = data.replace(b" .\n", b" %s .\n" % str(g).encode())
                store.load(named + data, format=ox.RdfFormat.N_QUADS)
            self._unflushed += data.count(b"\n")
            if self._unflushed >= FLUSH_QUADS and self.on_disk:
                store.flush()
                self._unflushed = 0
        except OSError as e:
            raise StoreError(f"cannot write to '{self.location}': {e}") from None

    def remove_document(self, doc: str) -> bool:
        """Remove everything one document contributed; returns whether it was there."""
        g = ox.NamedNode(doc)
        if not self._store.contains_named_graph(g):
            return False
        self._store.update(remove_update(g))
        return True

    def update(self, sparql: str, prefixes: Mapping[str, str] | None = None, base: str | None = None) -> None:
        """Run a SPARQL Update: :class:`QueryError` if it is not valid, :class:`StoreError` if it fails."""
        try:
            self._store.update(sparql, prefixes=dict(prefixes or {}), base_iri=base)
        except SyntaxError as e:
            raise QueryError(f"invalid SPARQL update: {first_line(e)}") from None
        except (OSError, ValueError, RuntimeError) as e:
            raise StoreError(f"update failed: {first_line(e)}") from None

    def flush(self) -> None:
        """Nothing to do: each document, each update, is a transaction of its own, written when it ends."""

    # -------------------------------------------------------------- reading

    def query(self, sparql: str, prefixes: Mapping[str, str] | None = None, base: str | None = None,
              substitutions: Mapping[ox.Variable, Term] | None = None, default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None, max_rows: int | None = None) -> Result:
        """Run SPARQL on Oxigraph's engine; the default graph is the merge of all documents.

        With ``default_graphs`` or ``named_graphs`` the dataset is those graphs, and a side left out is empty,
        as the SPARQL 1.1 Protocol has it (pyoxigraph would keep its own default for it)."""
        options: dict = {}
        if prefixes:
            options["prefixes"] = dict(prefixes)
        if base is not None:
            options["base_iri"] = base
        if substitutions:
            options["substitutions"] = dict(substitutions)
        if default_graphs is not None or named_graphs is not None:
            try:
                options["default_graph"] = [ox.NamedNode(g) for g in default_graphs or ()]
                options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs or ()]
            except ValueError as e:
                raise QueryError(f"invalid graph IRI: {e}") from None
        try:
            answer = self._store.query(sparql, **options)
        except SyntaxError as e:
            raise QueryError(f"invalid SPARQL: {first_line(e)}") from None
        return from_engine(answer, max_rows)

    def triples(self) -> Iterable[ox.Triple]:
        """Every distinct triple, documents' graphs merged."""
        for q in self._store.quads_for_pattern(None, None, None, MERGED):
            yield ox.Triple(q.subject, q.predicate, q.object)

    def quads(self) -> Iterable[ox.Quad]:
        """The quads a dataset holds: the documents' graphs, and default-graph triples no document states."""
        store = self._store
        for q in store.quads_for_pattern(None, None, None, None):
            if q.graph_name == MERGED and any(x.graph_name != MERGED for x in
                                               store.quads_for_pattern(q.subject, q.predicate, q.object, None)):
                continue  # the merged copy of a document's triple
            yield q

    def statements(self, fmt: ox.RdfFormat | None = None) -> int:
        """How many statements the graph holds as a file of format ``fmt``: quads for a dataset format, triples
        (the merge, as a query of the default graph counts them) for others and by default."""
        return count_statements(self.query, fmt)

    def __len__(self) -> int:
        return self.statements()

    # ------------------------------------------------------------ lifecycle

    on_disk = True  # whether the store is a directory, whose memory tables are flushed now and then

    @property
    def _store(self) -> ox.Store:
        if self.store is None:
            raise StoreError(f"'{self.location}' is closed")
        return self.store

    def close(self) -> None:
        """Flush the store and let go of it, which unlocks it."""
        try:
            if self.store is not None and self.on_disk:
                try:
                    self.store.flush()
                except OSError:
                    pass
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Let go without writing anything more."""
        self.store = None  # the directory stays locked while any reference to the Store lives
        if self.lock is not None:
            self.lock.close()
            self.lock = None

    def __enter__(self) -> OxigraphGraph:
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()


def refuse_update_url(location: str, update_url: str | None) -> None:
    """An update URL goes with an endpoint only: :class:`FormatError` if one is given for ``location``."""
    if update_url is not None:
        raise FormatError(f"an update URL goes with a SPARQL endpoint, and '{location}' is not an http(s) URL")


def hold_off_writers(path: Path) -> IO | None:
    """Hold the store's lock while other processes read it read-only, so no build writes under them.

    The record lock RocksDB itself takes: exclusive, or shared where the store may only be read (permissions,
    a read-only mount), which keeps writers out too. None when there is no lock file to take.
    """
    try:
        f: IO = open(path / "LOCK", "a+b")
        kind = fcntl.LOCK_EX
    except OSError:
        try:
            f, kind = open(path / "LOCK", "rb"), fcntl.LOCK_SH
        except OSError:
            return None
    try:
        fcntl.lockf(f, kind | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise StoreError(f"store '{path}' is in use by another process") from None
    return f


def is_store_dir(path: Path) -> bool:
    """Whether ``path`` is a directory that holds an Oxigraph store."""
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


def _open_read_only(path: Path) -> tuple[ox.Store, IO | None]:
    """A store directory this process cannot write, opened read-only, and the lock that keeps writers out meanwhile.

    Oxigraph's read-only mode takes no lock, and reading while another process writes is undefined: a
    shared lock on the store's LOCK file (where RocksDB takes its own) makes a writer wait its turn.
    """
    lock: IO | None = None
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


