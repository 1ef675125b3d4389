"""read → extract → resolve → build → store, batched through ``nlp.pipe``.

:func:`build` streams. Articles are read lazily; those the target already
holds with the same content hash are counted and passed over; the rest go
in batches (at most ``batch_size`` articles and about ``BATCH_CHARS``
characters) to worker processes (or a Dask cluster), which parse them with
``nlp.pipe`` (a long article in pieces, see :func:`newsgraph.nlp.parse`) and
analyse them; each result is written as it arrives, one transaction per
document. Nothing is kept per document but the list of skipped ones, so
memory stays flat however large the corpus is.

A document is skipped, with its id and the reason, when it is longer than
``max_chars``, when its analysis fails, or when it goes past ``doc_timeout``:
the worker is killed and replaced, and the other documents of its batch are
tried again (see :mod:`newsgraph.workers`).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import resolve
from .build import content_hash, doc_iri, stored_document
from .errors import InputError, NewsgraphError
from .iri import clean_text
from .layout import has_graph
from .read import Skip, iter_articles, same_document
from .records import Article, DocumentResult
from .store import Graph, open_source, open_target
from .workers import Failed, run_dask, run_local

BATCH_SIZE = 128  # as fast as 1000 on the sm model, at a quarter of the memory
BATCH_CHARS = 100_000  # about 3 s of parsing on one core: a batch stays far inside any sensible time limit
MAX_CHARS = 2_000_000
DOC_TIMEOUT = 120.0  # a MAX_CHARS article (2 MB) takes about 100 s on one core
ON_ERROR = ("skip", "fail")  # what a bad record does: skipped and listed, or the build stops


@dataclass
class BuildReport:
    """What a build did."""

    added: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    relations: int = 0
    triples: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        """Articles dealt with so far: added, unchanged or skipped."""
        return self.added + self.unchanged + len(self.skipped)


def analyse(doc, article: Article, extractor) -> DocumentResult:
    """One parsed article → its entities and facts."""
    found = extractor(doc, article.text)
    ents, owner = resolve.entities(found.mentions, article.text)
    facts = resolve.relate(found.relations, owner)
    return DocumentResult(article=article, entities=tuple(ents), facts=tuple(facts), content_hash=content_hash(article))


@lru_cache(maxsize=4)
def _analyser(model: str | None):
    """The model and the extractor made for it, once per process."""
    from .extract import Extractor
    from .nlp import load

    nlp = load(model)
    resolve.gazetteer()  # loaded now rather than inside the first document's time limit
    return nlp, Extractor(nlp)


def warm() -> None:
    """Load the default model and the extractor into this process, if there is a default model."""
    try:
        _analyser(None)
    except NewsgraphError:
        pass  # the worker that needs it reports the problem


def _reason(e: Exception) -> str:
    return f"analysis failed: {type(e).__name__}: {e}"


def extract_articles(articles: Iterable[Article], model: str | None = None, batch_size: int = BATCH_SIZE,
                     on_error: str = "skip", on_skip: Callable[[Skip], None] | None = None) -> Iterator[DocumentResult]:
    """Parse and analyse articles lazily, in batches, in this process (no time limit)."""
    from .nlp import parse, prepare

    nlp, extractor = _analyser(model)
    for doc, article in parse(nlp, ((prepare(a.text), a) for a in articles), batch_size):
        try:
            yield analyse(doc, article, extractor)
        except NewsgraphError:
            raise
        except Exception as e:  # a bug on one odd document must not take the batch down
            if on_error == "fail" or on_skip is None:
                raise NewsgraphError(f"cannot analyse article '{article.id}' ({article.source}): {type(e).__name__}: {e}") from e
            on_skip(Skip(_label(article), _reason(e)))


@dataclass(frozen=True)
class _Extraction:
    """The job a worker runs (see :mod:`newsgraph.workers`): a batch of articles → their results."""

    model: str | None
    batch_size: int

    def setup(self):
        return _analyser(self.model)

    def run(self, state, articles: list[Article], emit: Callable[..., None]) -> None:
        """Each outcome is a :class:`StoredDocument`, or a :class:`Failed`."""
        from .nlp import parse, prepare

        nlp, extractor = state
        docs = [doc for doc, _ in parse(nlp, ((prepare(a.text), i) for i, a in enumerate(articles)), self.batch_size)]
        emit("parsed")
        for i, (doc, article) in enumerate(zip(docs, articles)):
            docs[i] = None  # let each Doc go once analysed
            try:
                outcome: Any = stored_document(analyse(doc, article, extractor))
            except Exception as e:  # noqa: BLE001 (one odd document must not take the batch down)
                outcome = Failed(_reason(e))
            emit("done", i, outcome)


def _batches(articles: Iterable[Article], size: int, chars: int) -> Iterator[list[Article]]:
    """Consecutive batches of at most ``size`` articles and, unless one article is longer, ``chars`` characters."""
    batch: list[Article] = []
    length = 0
    for article in articles:
        if batch and (len(batch) >= size or length + len(article.text) > chars):
            yield batch
            batch, length = [], 0
        batch.append(article)
        length += len(article.text)
    if batch:
        yield batch


def _label(article: Article) -> str:
    """Where an article came from, with its id unless it is a text file named by it: "feed.jsonl:12 (wire-7)"."""
    source = article.source or article.id
    named = ":" not in source and Path(source).with_suffix("").as_posix().endswith(article.id)
    return source if named else f"{source} ({article.id})"


def build(inputs: Sequence[str], target: str | Graph, model: str | None = None, on_error: str = "skip",
          batch_size: int = BATCH_SIZE, stdin=None, *, workers: int = 1, dask: Any = None,
          max_chars: int = MAX_CHARS, doc_timeout: float | None = DOC_TIMEOUT,
          progress: Callable[[BuildReport], None] | None = None) -> BuildReport:
    """Build the graph of ``inputs`` into ``target`` (a file name, a store directory, or an open Graph).

    ``workers`` processes parse and analyse (one model load each), or the
    Dask cluster at ``dask`` (a scheduler address or a ``Client``) does;
    ``doc_timeout`` seconds (None: no limit; not on Dask) bounds each
    document. ``progress`` is called with the report after each document.

    >>> build(["articles/"], "store/", workers=2).added  # doctest: +SKIP
    1200
    """
    report = BuildReport()
    tick = progress or (lambda _: None)

    def skip(s: Skip) -> None:
        if on_error == "fail":
            raise NewsgraphError(f"{s.source}: {s.reason}")
        report.skipped.append(s)
        tick(report)

    graph = open_target(target) if isinstance(target, str) else target

    def todo() -> Iterator[Article]:
        for art in iter_articles(inputs, on_skip=skip, stdin=stdin, max_chars=max_chars):
            doc = doc_iri(art.id)
            if graph.has_document(doc, content_hash(art)):
                report.unchanged += 1
                tick(report)
            elif (stored := graph.document_id(doc)) is not None and stored != clean_text(art.id):
                skip(Skip(_label(art), same_document(art.id, stored) + f" (already in {graph.location})"))
            elif len(art.text) > max_chars:
                skip(Skip(_label(art), f"{len(art.text):,} characters, longer than the limit of {max_chars:,}", "max_chars"))
            else:
                yield art

    job = _Extraction(model, batch_size)
    batches = _batches(todo(), batch_size, BATCH_CHARS)
    if dask is not None:
        outcomes = run_dask(job, batches, dask)
    else:
        outcomes = run_local(job, batches, workers, doc_timeout,
                             describe=lambda t: f"took longer than {t:g} s to analyse")
    try:
        for article, outcome in outcomes:
            if isinstance(outcome, Failed):
                setting = "doc_timeout" if outcome.timed_out else None
                if on_error == "fail":
                    raise NewsgraphError(f"cannot analyse article '{article.id}' ({article.source}): {outcome.reason}",
                                         setting=setting)
                skip(Skip(_label(article), outcome.reason, setting))
                continue
            graph.put_ntriples(outcome.iri, outcome.ntriples)
            report.added += 1
            report.relations += outcome.relations
            tick(report)
    finally:
        outcomes.close()  # stops the workers now, also when a skip ends the build
    report.triples = graph.statements()
    if isinstance(target, str):
        graph.close()
    return report


def remove(location: str, doc_ids: Sequence[str]) -> int:
    """Remove documents, and what only they contributed, from a store, an ``.nq``/``.trig`` file or an endpoint.

    Entities and facts another document also states stay. Every id must be
    there, or nothing is removed. Returns how many statements are left.

    >>> remove("store/", ["wire-0412"])  # doctest: +SKIP
    5120
    """
    graph = open_source(location, writable=True)
    try:
        if not graph.keeps_documents:
            raise InputError(f"'{location}' merges its documents' triples, so one cannot be taken out; "
                             "rebuild it without the document, or build into a store or a .nq or .trig file")
        missing = [d for d in doc_ids if not graph.query(has_graph(doc_iri(d))).boolean]
        if missing:
            more = f" (and {len(missing) - 1} more of the ids given)" if len(missing) > 1 else ""
            raise InputError(f"no document '{missing[0]}' in '{location}'{more}; nothing was removed")
        for d in dict.fromkeys(doc_ids):
            graph.remove_document(doc_iri(d))
        left = graph.statements()
    except BaseException:
        graph.abandon()  # a file stays as it was
        raise
    graph.close()
    return left
