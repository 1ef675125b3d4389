"""The newsgraph benchmark: one command, every ratio measured in the same run.

    python bench/run.py             # about 14 minutes on 2 cores
    python bench/run.py --quick     # smaller corpora: a smoke test of the benchmark itself

Articles come from ``bench/corpus.py`` (template sentences, invented names,
seeded), the million-triple store from synthetic records written with the
project's own ``document_quads`` (the store's real layout). Builds whose
memory is measured run as separate processes; their peak is the largest sum
of proportional resident memory (PSS: a page shared by several processes
counted once in all) over the process tree (builder, fork server, workers),
sampled every 20 ms from /proc.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402

RESULTS: list[tuple[str, float, str, bool | None]] = []


def say(text: str = "") -> None:
    print(text, flush=True)


def record(name: str, value: float, goal: str = "", ok: bool | None = None) -> None:
    RESULTS.append((name, value, goal, ok))
    say(f"  {name}: {value:.3g}" + (f" (goal {goal}: {'met' if ok else 'MISSED'})" if goal else ""))


def newsgraph(*args: str) -> list[str]:
    return [sys.executable, "-m", "newsgraph.cli", *args]


# ------------------------------------------------------------------ memory of a process tree


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _pss(pid: int) -> int:
    """Proportional resident memory: pages shared by the workers and the fork server are counted once in all."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_measured(command: list[str]) -> tuple[float, int, str]:
    """Run a command; its wall time, the peak resident memory of its process tree, and its stderr."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(_pss(p) for p in _tree(proc.pid)))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    err = proc.stderr.read()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}): {err}")
    return wall, peak, err


# ------------------------------------------------------------------ 1. extraction ÷ bare spaCy


def extraction_overhead(n: int) -> None:
    from newsgraph.nlp import load
    from newsgraph.pipeline import extract_articles
    from newsgraph.records import Article

    say(f"\n1. extraction ÷ bare spaCy nlp.pipe, {n} articles of 24 sentences, in this process")
    articles = [Article(a["id"], a["text"], a["title"], a["date"]) for a in corpus.articles(n, seed=1)]
    words = sum(len(a.text.split()) for a in articles)
    nlp = load()
    list(extract_articles(articles[:5]))  # warm: model, extractor, gazetteer
    bare, ours = [], []
    for _ in range(2):  # alternated, best of two: other work on the machine hits both alike
        t = time.perf_counter()
        for _doc in nlp.pipe((a.text for a in articles), batch_size=128):
            pass
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        for _result in extract_articles(articles):
            pass
        ours.append(time.perf_counter() - t)
    say(f"  bare nlp.pipe {min(bare):.1f} s ({words / min(bare):,.0f} words/s); "
        f"newsgraph extraction {min(ours):.1f} s ({words / min(ours):,.0f} words/s)")
    record("extraction ÷ bare nlp.pipe", min(ours) / min(bare), "≤ 1.25", min(ours) / min(bare) <= 1.25)

    profile = cProfile.Profile()
    profile.enable()
    for _result in extract_articles(articles[:40]):
        pass
    profile.disable()
    stats = pstats.Stats(profile)
    by_place: dict[str, float] = {}
    for (path, _line, _func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        place = ("newsgraph." + Path(path).stem if "newsgraph" in path else
                 "spacy/thinc (parsing)" if any(k in path for k in ("spacy", "thinc", "numpy", "blis")) else
                 "python builtins" if path == "~" else Path(path).stem)
        by_place[place] = by_place.get(place, 0.0) + tottime
    total = sum(by_place.values())
    say("  where the time goes (cProfile, own time by module, 40 articles):")
    for place, seconds in sorted(by_place.items(), key=lambda kv: -kv[1])[:8]:
        say(f"    {seconds / total:6.1%}  {place}")


# ------------------------------------------------------------------ 2. two workers ÷ one


def worker_scaling(n: int, tmp: Path) -> None:
    import spacy  # noqa: F401

    from newsgraph.nlp import load
    from newsgraph.pipeline import build

    say(f"\n2. throughput with 2 worker processes ÷ 1, {n} articles of 24 sentences, into a store")
    feed = tmp / "scaling.jsonl"
    words = corpus.write_jsonl(feed, n, seed=2)
    build([str(corpus_file(tmp, "warm.jsonl", 3))], str(tmp / "warm"), workers=2)  # the fork server, model loaded
    rates = {}
    for workers in (1, 2):
        store = tmp / f"scaling-{workers}"
        cpu = time.process_time()
        t = time.perf_counter()
        report = build([str(feed)], str(store), workers=workers)
        wall = time.perf_counter() - t
        rates[workers] = report.added / wall
        say(f"  {workers} worker{'s' if workers > 1 else ''}: {wall:.1f} s, {rates[workers]:.1f} articles/s, "
            f"{words / wall:,.0f} words/s; the writing process used {(time.process_time() - cpu) / wall:.0%} of a core")
    ratio = rates[2] / rates[1]
    record("2 workers ÷ 1 worker throughput", ratio, "≥ 1.7", ratio >= 1.7)

    # The same two-process split with no newsgraph code at all: what this machine gives spaCy.
    texts = [a["text"] for a in corpus.articles(n // 2, seed=3)]
    nlp = load()
    t = time.perf_counter()
    for _doc in nlp.pipe(texts, batch_size=64):
        pass
    one = time.perf_counter() - t
    t = time.perf_counter()
    for _doc in nlp.pipe(texts, batch_size=64, n_process=2):
        pass
    two = time.perf_counter() - t
    say(f"  for comparison, bare spaCy nlp.pipe n_process=2 ÷ 1 on {len(texts)} articles "
        f"(its process start included): {one / two:.2f}")
    cpu_ceiling(tmp)


def cpu_ceiling(tmp: Path) -> None:
    """Pure-Python busy loops in 1 and 2 processes: how much a second core gives on this machine."""
    code = "import time\nt=time.perf_counter()\nx=0\nfor i in range(30_000_000): x+=i\nprint(time.perf_counter()-t)"
    one = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    two = max(float(p.communicate()[0]) for p in procs)
    say(f"  and two busy-loop processes ÷ one (the machine's own ceiling): {2 * one / two:.2f}")


def corpus_file(tmp: Path, name: str, n: int, sentences: int = 24, seed: int = 9) -> Path:
    path = tmp / name
    corpus.write_jsonl(path, n, seed=seed, sentences=sentences)
    return path


# ------------------------------------------------------------------ 3. memory 10k ÷ 1k; build ÷ bulk load


def memory_and_writes(small: int, large: int, tmp: Path) -> None:
    import pyoxigraph as ox

    from newsgraph.build import doc_iri, document_quads
    from newsgraph.pipeline import extract_articles
    from newsgraph.records import Article
    from newsgraph.store import MERGED, open_target

    say(f"\n3. peak memory building {large:,} articles ÷ {small:,} (3 sentences each, 2 workers, into a store)")
    peaks, walls = {}, {}
    for n in (small, large):
        feed = corpus_file(tmp, f"short-{n}.jsonl", n, sentences=3, seed=4)
        wall, peak, err = run_measured(newsgraph("build", str(feed), "-o", str(tmp / f"short-{n}"), "--workers", "2"))
        peaks[n], walls[n] = peak, wall
        say(f"  {n:,} articles: {wall:.1f} s, peak {peak / 2**20:.0f} MiB — {err.strip().splitlines()[-1]}")
    ratio = peaks[large] / peaks[small]
    record(f"peak RSS {large:,} ÷ {small:,} articles", ratio, "≤ 1.2", ratio <= 1.2)

    say(f"\n4. writing into the embedded store, one transaction per document ÷ pyoxigraph bulk load, {small:,} articles")
    feed = tmp / f"short-{small}.jsonl"
    articles = [Article(r["id"], r["text"], r["title"], r["date"]) for r in map(json.loads, feed.open(encoding="utf-8"))]
    documents = [(doc_iri(r.article.id), document_quads(r)) for r in extract_articles(articles)]
    quads = sum(len(q) for _, q in documents)
    graph = open_target(str(tmp / "per-document"))
    t = time.perf_counter()
    for doc, qs in documents:
        graph.put_document(doc, qs)
    graph.close()
    ours = time.perf_counter() - t
    bulk_store = ox.Store(str(tmp / "bulk"))
    t = time.perf_counter()
    bulk_store.bulk_extend([q for _, qs in documents for q in qs] +
                           [ox.Quad(q.subject, q.predicate, q.object, MERGED) for _, qs in documents for q in qs])
    bulk_store.flush()
    bulk = time.perf_counter() - t
    del bulk_store
    say(f"  {quads:,} quads (and their merge): per-document transactions {ours:.2f} s, bulk load {bulk:.2f} s; "
        f"the whole build of these articles took {walls[small]:.1f} s")
    record("writes, per-document transactions ÷ bulk load", ours / bulk)
    record("whole build (parse, analyse, write) ÷ bulk load", walls[small] / bulk)


# ------------------------------------------------------------------ 5. query latency


def synthetic_store(path: Path, documents: int) -> int:
    """A store in newsgraph's layout built from invented records; returns its number of triples."""
    import pyoxigraph as ox

    from newsgraph.build import content_hash, document_quads
    from newsgraph.records import Article, DocumentResult, Entity, Evidence, Fact, Mention, Relation
    from newsgraph.store import MERGED

    rng = random.Random(11)
    people = [Entity(f"{first} {last}{i}", "Person", (f"{last}{i}",), 2) for i, (first, last) in
              enumerate((rng.choice(corpus.FIRST), rng.choice(corpus.LAST)) for _ in range(8000))]
    places = [Entity(f"{rng.choice(corpus.TOWNS)} {i}", "Location", (), 1) for i in range(3000)]
    groups = [Entity(f"{rng.choice(corpus.GROUP_LAND)} {rng.choice(corpus.GROUP_HEAD)} {i}", "Organization", (), 1)
              for i in range(1000)]

    def pick(pool):  # a few names are in many documents, most in a few
        return pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)] if rng.random() < 0.3 else rng.choice(pool)

    store = ox.Store(str(path))
    batch: list = []
    for d in range(documents):
        ents = list({e.label: e for e in [pick(people) for _ in range(6)] + [pick(places) for _ in range(4)]
                     + [pick(groups) for _ in range(2)]}.values())
        facts = []
        for k in range(10):
            s, o = rng.sample(ents, 2)
            prop = rng.choice(("metWith", "alliedTo", "captured"))
            sentence = f"{s.label} and {o.label}, sentence {k} of report {d}."
            m = lambda e: Mention(0, len(e.label), e.label, e.cls, 0)  # noqa: E731
            rel = Relation(prop, m(s), m(o), Evidence(sentence, 100 * k, 100 * k + len(sentence), prop, f"{prop}.bench"),
                           modality=rng.choice(("asserted",) * 4 + ("planned",)))
            facts.append(Fact(s, rel, o))
        article = Article(f"synthetic-{d:05d}", f"(report {d})", title=f"Report {d}", date="2024-05-01")
        quads = document_quads(DocumentResult(article, tuple(ents), tuple(facts), content_hash(article)))
        batch += quads
        batch += [ox.Quad(q.subject, q.predicate, q.object, MERGED) for q in quads]
        if len(batch) > 200_000:
            store.bulk_extend(batch)
            batch = []
    store.bulk_extend(batch)
    store.flush()
    triples = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value)
    del store
    return triples


def query_latency(documents: int, tmp: Path) -> None:
    import pyoxigraph as ox
    from click.testing import CliRunner

    from newsgraph.build import entity_iri
    from newsgraph.cli import main
    from newsgraph.query import render, run
    from newsgraph.records import Entity
    from newsgraph.resources import PREFIXES
    from newsgraph.store import open_source

    store_path = tmp / "million"
    t = time.perf_counter()
    triples = synthetic_store(store_path, documents)
    say(f"\n5. `newsgraph query` latency ÷ raw pyoxigraph, on a store of {triples:,} distinct triples "
        f"({documents:,} synthetic documents, made in {time.perf_counter() - t:.0f} s)")
    probe = ox.Store(str(store_path))
    hub = next(iter(probe.query(  # the most mentioned person: a real neighbourhood, a real 2-hop
        "SELECT ?e WHERE { ?d <https://w3id.org/newsgraph/ontology#mentions> ?e . "
        "?e a <https://w3id.org/newsgraph/ontology#Person> } GROUP BY ?e ORDER BY DESC(COUNT(?d)) LIMIT 1")))["e"]
    label = next(iter(probe.quads_for_pattern(hub, ox.NamedNode(PREFIXES["rdfs"] + "label"), None))).object.value
    del probe
    assert entity_iri(Entity(label, "Person", ())) == hub.value
    queries = {
        "neighbourhood": f"SELECT ?p ?o ?l WHERE {{ <{hub.value}> ?p ?o . OPTIONAL {{ ?o rdfs:label ?l }} }}",
        "2-hop": f"SELECT DISTINCT ?b ?c WHERE {{ <{hub.value}> ng:metWith|ng:alliedTo|ng:captured ?b . "
                 "?b ng:metWith|ng:alliedTo|ng:captured ?c }",
        "GROUP BY": "SELECT ?e (COUNT(?a) AS ?n) WHERE { ?a a ng:Assertion ; rdf:subject ?e } "
                    "GROUP BY ?e ORDER BY DESC(?n) LIMIT 20",
        "label search": f"SELECT ?e ?l WHERE {{ ?e rdfs:label ?l FILTER(CONTAINS(LCASE(?l), \"{label.split()[-1].lower()}\")) }}",
    }
    prologue = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())
    runner = CliRunner()

    def ours_cli(q: str, fmt: str = "table") -> int:
        result = runner.invoke(main, ["query", str(store_path), q, "--format", fmt])
        assert result.exit_code == 0, result.output
        return result.stdout.count("\n")

    def raw_opened(q: str) -> int:
        s = ox.Store(str(store_path))
        rows = [[str(t) for t in row] for row in s.query(prologue + q)]
        del s
        return len(rows)

    def on_open_store(q: str) -> tuple[float, float, int]:
        graph = open_source(str(store_path))
        rows = len(list(graph.store.query(prologue + q)))  # warms the caches for both
        ours = median_time(lambda: render(run(graph, q), "table"))
        raw = median_time(lambda: [[str(t) for t in row] for row in graph.store.query(prologue + q)])
        graph.close()
        return ours, raw, rows

    def median_time(f) -> float:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    for name, q in queries.items():
        a, b, rows = on_open_store(q)
        c, d = median_time(lambda: ours_cli(q)), median_time(lambda: raw_opened(q))
        say(f"  {name} ({rows} rows): newsgraph query {c * 1000:.1f} ms vs pyoxigraph {d * 1000:.1f} ms, store opened "
            f"by each; on an open store {a * 1000:.1f} ms vs {b * 1000:.1f} ms")
        record(f"query latency ÷ pyoxigraph, {name}", c / d, "≤ 1.2", c / d <= 1.2)
        record(f"query latency ÷ pyoxigraph, {name}, open store", a / b, "≤ 1.2", a / b <= 1.2)
        if name in ("neighbourhood", "2-hop"):  # the large answers: what writing each output format costs
            for fmt in ("csv", "tsv", "json", "xml"):
                c = median_time(lambda: ours_cli(q, fmt))
                record(f"query latency ÷ pyoxigraph, {name}, --format {fmt}", c / d, "≤ 1.2", c / d <= 1.2)


# ------------------------------------------------------------------ 6. a 1 MB article


def big_article(tmp: Path, size: int) -> None:
    say(f"\n6. one article of {size:,} characters through `newsgraph build` (2,000,000 is --max-chars)")
    rng = random.Random(13)
    paragraphs, length = [], 0
    while length < size:
        text = corpus.article(rng, 0)["text"]
        paragraphs.append(text)
        length += len(text) + 2
    feed = tmp / "big.jsonl"
    feed.write_text(json.dumps({"id": "big", "text": "\n\n".join(paragraphs)[:size]}) + "\n", encoding="utf-8")
    wall, peak, err = run_measured(newsgraph("build", str(feed), "-o", str(tmp / "big")))
    say(f"  {wall:.1f} s, peak {peak / 2**20:.0f} MiB — {err.strip().splitlines()[-1]}")
    record("1 MB article, seconds", wall, "≤ 60", wall <= 60)
    record("1 MB article, peak MiB", peak / 2**20, "≤ 1024", peak <= 2**30)


# ------------------------------------------------------------------ 7. a server under runaway queries


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"  # a 3-way cross product: never ends


def _clients(url: str, queries: list[str], clients: int, seconds: float, out) -> None:
    """``clients`` threads, each on one keep-alive connection, asking ``queries`` in turn until time is up;
    sends back (finished at, seconds taken, status) for every answer."""
    import http.client
    import threading
    import urllib.parse

    host, _, rest = url.removeprefix("http://").partition("/")
    hostname, port = host.rsplit(":", 1)
    done: list[tuple[float, float, int]] = []
    end = time.perf_counter() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(hostname, int(port), timeout=60)
        i = k
        while time.perf_counter() < end:
            body = urllib.parse.urlencode({"query": queries[i % len(queries)]})
            i += 1
            t = time.perf_counter()
            try:
                conn.request("POST", "/" + rest, body, {"Content-Type": "application/x-www-form-urlencoded",
                                                        "Accept": "application/sparql-results+json"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(hostname, int(port), timeout=60)
                status = 0
            now = time.perf_counter()
            done.append((now, now - t, status))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.send(done)


def _load(url: str, simple: list[str], runaways: int, seconds: float, simple_clients: int = 16) -> dict:
    """16 simple clients (in two processes) and ``runaways`` clients sending RUNAWAY, for ``seconds``."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    jobs = []
    for queries, clients in [(simple, simple_clients // 2)] * 2 + ([([RUNAWAY], runaways)] if runaways else []):
        ours, theirs = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_clients, args=(url, queries, clients, seconds, theirs))
        proc.start()
        jobs.append((proc, ours))
    start = time.perf_counter()
    replies = [conn.recv() for _, conn in jobs]
    for proc, _ in jobs:
        proc.join()
    fast = [r for part in replies[:2] for r in part]
    slow = replies[2] if runaways else []
    ok = [r for r in fast if r[2] == 200]
    answered = {int(r[0] - start) for r in ok}
    latencies = sorted(r[1] for r in ok) or [float("inf")]
    return {"rate": len(ok) / seconds, "p99": latencies[int(0.99 * (len(latencies) - 1))],
            "silent": sum(1 for s in range(int(seconds)) if s not in answered), "errors": len(fast) - len(ok),
            "runaway": [r[1] for r in slow], "runaway_status": sorted({r[2] for r in slow})}


def _wait_listening(url: str, proc: subprocess.Popen) -> None:
    import urllib.request

    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: {proc.stderr.read() if proc.stderr else ''}")
        try:
            urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def server_fairness(documents: int, tmp: Path, seconds: float) -> None:
    import socket

    import pyoxigraph as ox

    store_path = tmp / "fairness"
    if not store_path.exists():
        synthetic_store(store_path, documents)
    copy = tmp / "fairness-oxigraph"
    if not copy.exists():
        shutil.copytree(store_path, copy)
    probe = ox.Store.read_only(str(store_path))
    people = [row["e"].value for row in probe.query(
        "SELECT ?e WHERE { ?e a <https://w3id.org/newsgraph/ontology#Person> } LIMIT 50")]
    del probe
    simple = [f"SELECT ?p ?o WHERE {{ <{e}> ?p ?o }} LIMIT 20" for e in people]
    say(f"\n7. a server under runaway queries: 16 simple clients alone, then with 4 clients sending a 3-way cross "
        f"product, {seconds:g} s each, --timeout 2, 2 workers; newsgraph serve beside oxigraph serve-read-only")

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    servers = {
        "newsgraph serve": lambda port: newsgraph("serve", str(store_path), "--port", str(port), "--timeout", "2",
                                                  "--workers", "2"),
        "oxigraph serve": lambda port: [str(Path(sys.executable).parent / "oxigraph"), "serve-read-only",
                                        "--location", str(copy), "--bind", f"127.0.0.1:{port}", "--timeout-s", "2"],
    }
    paths = {"newsgraph serve": "/sparql", "oxigraph serve": "/query"}
    found = {}
    for name, command in servers.items():
        port = free_port()
        proc = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}{paths[name]}"
        try:
            _wait_listening(url, proc)
            alone = _load(url, simple, 0, seconds)
            mixed = _load(url, simple, 4, seconds)
        finally:
            proc.terminate()
            proc.wait(30)
        late = max(mixed["runaway"], default=0.0)
        say(f"  {name}: alone {alone['rate']:,.0f} answers/s (p99 {alone['p99'] * 1000:.0f} ms); with runaways "
            f"{mixed['rate']:,.0f}/s (p99 {mixed['p99'] * 1000:.0f} ms), {mixed['silent']} s with no simple answer, "
            f"{mixed['errors']} simple errors; {len(mixed['runaway'])} runaways answered {mixed['runaway_status']}, "
            f"the slowest in {late:.1f} s")
        found[name] = (alone, mixed, late)
    alone, mixed, late = found["newsgraph serve"]
    kept = mixed["rate"] / alone["rate"]
    record("serve with runaways ÷ alone, throughput", kept, "≥ 0.5", kept >= 0.5)
    record("serve with runaways, simple p99 ms", mixed["p99"] * 1000, "≤ 250", mixed["p99"] <= 0.25)
    record("serve with runaways, seconds with no simple answer", mixed["silent"], "0", mixed["silent"] == 0)
    record("serve with runaways, slowest runaway answer s", late, "≤ 2.5", late <= 2.5)
    theirs = found["oxigraph serve"]
    record("serve ÷ oxigraph serve, alone, throughput", alone["rate"] / theirs[0]["rate"])
    record("serve ÷ oxigraph serve, with runaways, throughput", mixed["rate"] / theirs[1]["rate"])


# ------------------------------------------------------------------ main


SECTIONS = ("extraction", "workers", "memory", "query", "big", "serve")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small corpora: checks the benchmark runs, not the goals")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only this section (repeatable)")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args()
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="newsgraph-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    q = args.quick
    start = time.perf_counter()
    say(f"newsgraph benchmark, {os.cpu_count()} cores, Python {sys.version.split()[0]}, in {tmp}")
    only = set(args.only or SECTIONS)
    try:
        if "extraction" in only:
            extraction_overhead(20 if q else 150)
        if "workers" in only:
            worker_scaling(24 if q else 200, tmp)
        if "memory" in only:
            memory_and_writes(100 if q else 1000, 1000 if q else 10_000, tmp)
        if "query" in only:
            query_latency(500 if q else 5000, tmp)
        if "big" in only:
            big_article(tmp, 100_000 if q else 1_000_000)
        if "serve" in only:
            server_fairness(500 if q else 5000, tmp, 10 if q else 60)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    say(f"\nsummary ({time.perf_counter() - start:.0f} s in all)")
    width = max(len(r[0]) for r in RESULTS)
    for name, value, goal, ok in RESULTS:
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        say(f"  {name.ljust(width)}  {value:8.3g}  {goal:>7}  {verdict}")


if __name__ == "__main__":
    main()
