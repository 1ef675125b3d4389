"""read → extract → resolve → build → store, batched through ``nlp.pipe``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

from . import resolve
from .build import content_hash, doc_iri, document_quads
from .errors import NewsgraphError
from .read import Skip, iter_articles
from .records import Article, DocumentResult
from .store import Graph, open_target

BATCH_SIZE = 128  # as fast as 1000 on the sm model, at a quarter of the memory


@dataclass
class BuildReport:
    """What a build did."""

    added: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)
    relations: int = 0
    triples: int = 0


def analyse(doc, article: Article, extractor) -> DocumentResult:
    """One parsed article → its entities and facts."""
    found = extractor(doc, article.text)
    ents, owner = resolve.entities(found.mentions, article.text)
    facts = resolve.relate(found.relations, owner)
    return DocumentResult(article=article, entities=tuple(ents), facts=tuple(facts), content_hash=content_hash(article))


def extract_articles(articles: Iterable[Article], model: str | None = None, batch_size: int = BATCH_SIZE,
                     on_error: str = "skip", on_skip: Callable[[Skip], None] | None = None) -> Iterator[DocumentResult]:
    """Parse and analyse articles lazily, in batches."""
    from .extract import Extractor
    from .nlp import load, prepare

    nlp = load(model)
    extractor = Extractor(nlp)
    pairs = ((prepare(a.text), a) for a in articles)
    for doc, article in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
        try:
            yield analyse(doc, article, extractor)
        except NewsgraphError:
            raise
        except Exception as e:  # a bug on one odd document must not take the batch down
            if on_error == "fail" or on_skip is None:
                raise NewsgraphError(f"cannot analyse article '{article.id}' ({article.source}): {type(e).__name__}: {e}") from e
            on_skip(Skip(article.source or article.id, f"analysis failed: {type(e).__name__}: {e}"))


def build(inputs: Sequence[str], target: str | Graph, model: str | None = None, on_error: str = "skip",
          batch_size: int = BATCH_SIZE, stdin=None) -> BuildReport:
    """Build the graph of ``inputs`` into ``target`` (a file name, a store directory, or an open Graph)."""
    report = BuildReport()

    def skip(s: Skip) -> None:
        if on_error == "fail":
            raise NewsgraphError(f"{s.source}: {s.reason}")
        report.skipped.append(s)

    graph = open_target(target) if isinstance(target, str) else target

    def todo() -> Iterator[Article]:
        for art in iter_articles(inputs, on_skip=skip, stdin=stdin):
            if graph.has_document(doc_iri(art.id), content_hash(art)):
                report.unchanged += 1
                continue
            yield art

    for result in extract_articles(todo(), model=model, batch_size=batch_size, on_error=on_error, on_skip=skip):
        graph.put_document(doc_iri(result.article.id), document_quads(result))
        report.added += 1
        report.relations += sum(1 for f in result.facts if f.relation.factual)
    report.triples = graph.statements()
    if isinstance(target, str):
        graph.close()
    return report
