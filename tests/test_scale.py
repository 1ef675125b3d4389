"""Large corpora: chunked parsing, limits per document, worker processes, Dask, progress, remove."""
from __future__ import annotations

import io
import json
import os
import re
import signal
import time
import warnings

import pyoxigraph as ox
import pytest
from hypothesis import given, settings, strategies as st

from helpers import ARTICLES, FEED, HARBOUR, NG, RIVER, handmade_documents, write_documents
from newsgraph.build import doc_iri, document_quads
from newsgraph.errors import WorkerError
from newsgraph.nlp import CHUNK_CHARS, chunk_spans
from newsgraph.records import Article
from newsgraph.workers import Failed, run_local

STATEMENT_OFFSETS = f"""
SELECT ?sentence ?start ?end WHERE {{
  ?a a <{NG}Assertion> ; <{NG}sentence> ?sentence ; <{NG}sentenceStart> ?start ; <{NG}sentenceEnd> ?end .
}}"""


def named_quads(store) -> dict[str, set[ox.Quad]]:
    """Each document graph of a store or dataset file, by graph name."""
    if os.path.isdir(store):
        quads = ox.Store(str(store)).quads_for_pattern(None, None, None, None)
    else:
        quads = ox.parse(path=str(store), format=ox.RdfFormat.N_QUADS)
    graphs: dict[str, set[ox.Quad]] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode):
            graphs.setdefault(q.graph_name.value, set()).add(q)
    return graphs


def merged_graph(store):
    """The default graph (the merge) of a store as an rdflib Graph, for rdflib.compare."""
    import rdflib

    s = ox.Store(str(store))
    data = ox.serialize([q.triple for q in s.quads_for_pattern(None, None, None, ox.DefaultGraph())],
                        format=ox.RdfFormat.N_TRIPLES)
    del s
    return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")


def isomorphic(a, b) -> bool:
    from rdflib.compare import isomorphic as iso

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return iso(a, b)


# ------------------------------------------------------------ chunks, no model


def test_long_text_is_cut_after_paragraphs_and_sentences():
    para = "Tomas Halvik met Idris Maren in Corvanne. The talks went on for hours.\n\n"
    text = para * 400  # about 29,000 characters
    spans = chunk_spans(text, CHUNK_CHARS)
    assert len(spans) >= 3
    assert "".join(text[s:e] for s, e in spans) == text
    assert all(e - s <= CHUNK_CHARS and text[s:e].endswith("\n\n") for s, e in spans[:-1])
    one_paragraph = para.replace("\n\n", " ") * 400
    for s, e in chunk_spans(one_paragraph, CHUNK_CHARS)[:-1]:
        assert one_paragraph[s:e].endswith(". "), "no paragraph break: cut after a sentence"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .\n\t\u00e9\u2603!"), max_size=3000), st.integers(8, 400))
def test_pieces_always_add_up_to_the_text(text, size):
    spans = chunk_spans(text, size)
    assert "".join(text[s:e] for s, e in spans) == text
    assert all(0 < e - s <= size for s, e in spans[:-1] if text)
    assert [s for s, _ in spans[1:]] == [e for _, e in spans[:-1]]


# ------------------------------------------------------------ worker pool, no model


class _FakeJob:
    """A job for the pool: an item names what to do, "slow-parse", "slow", "die" or anything else (done)."""

    def setup(self):
        return "ready"

    def run(self, state, items, emit):
        if any(item == "slow-parse" for item in items):
            time.sleep(30)
        emit("parsed")
        for i, item in enumerate(items):
            if item == "slow":
                time.sleep(30)
            if item == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            emit("done", i, f"{item} done in {os.getpid()}")


class _BrokenJob:
    def setup(self):
        raise RuntimeError("no model here")


def test_a_batch_sent_to_a_worker_that_just_died_waits_for_a_live_one():
    """The pool may refill a worker in the instant after a fatal item killed it: the send must not raise."""
    from newsgraph.workers import _Batch, _context, _Worker

    w = _Worker(_context(), _FakeJob())
    w.proc.kill()
    w.proc.join()
    w.send(_Batch(1, ["a"], True, set()), timeout=1.0)
    w.send(_Batch(2, ["b"], True, set()), timeout=1.0)
    assert w.broken and [b.key for b in w.batches] == [1, 2]  # both kept, to be retried elsewhere
    w.stop(kill=True)


def test_a_slow_or_fatal_item_is_given_up_and_the_rest_is_done():
    batches = [["a", "slow", "b"], ["c", "slow-parse", "d"], ["e", "die", "f"], ["g"]]
    start = time.monotonic()
    outcomes = dict(run_local(_FakeJob(), batches, workers=2, timeout=1.0))
    assert time.monotonic() - start < 20
    assert set(outcomes) == {"a", "slow", "b", "c", "slow-parse", "d", "e", "die", "f", "g"}
    given_up = {item: o.reason for item, o in outcomes.items() if isinstance(o, Failed)}
    assert given_up == {"slow": "took longer than 1 s", "slow-parse": "took longer than 1 s",
                        "die": "the worker process died (signal 9) on it"}
    assert all(o.startswith(f"{item} done") for item, o in outcomes.items() if item not in given_up)


def test_a_worker_that_cannot_start_stops_the_run():
    with pytest.raises(WorkerError, match="no model here"):
        list(run_local(_BrokenJob(), [["a"]], workers=1))


def test_no_batches_start_no_worker():
    assert list(run_local(_BrokenJob(), [], workers=2)) == []


# ------------------------------------------------------------ the pipeline, with the model


def _feed(path, records: list[dict]):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.model
def test_a_long_article_is_parsed_in_pieces_and_evidence_points_into_its_text(cli, tmp_path):
    paragraphs = [f"Commander Tomas Halvik{i} met envoy Idris Maren{i} in Corvanne on Friday.\r\n"
                  f"The Coastal Militia captured Velmora{i}, residents said.\r\n\r\n" for i in range(220)]
    text = "CORVANNE (Wire) - " + "".join(paragraphs)
    assert len(text) > 2 * CHUNK_CHARS
    out = tmp_path / "graph.nq"
    cli.ok("build", _feed(tmp_path / "long.jsonl", [{"id": "long", "text": text}]), "-o", out)
    store = ox.Store()
    store.load(path=str(out), format=ox.RdfFormat.N_QUADS)
    rows = list(store.query(STATEMENT_OFFSETS, use_default_graph_as_union=True))
    assert len(rows) > 200, "relations are found in every piece"
    for row in rows:
        start, end = int(row["start"].value), int(row["end"].value)
        assert text[start:end] == row["sentence"].value
    assert max(int(row["end"].value) for row in rows) > len(text) - 200, "the last piece is read too"


HOSTILE = {
    "20 KB of punctuation": "Tomas Halvik met Idris Maren. " + "!?.,;:" * 3400 + " The end.",
    "20 KB of emoji": "Tomas Halvik met Idris Maren. " + "\U0001F600\U0001F525\U0001F30D" * 1700 + " The end.",
    "a URL and 13,000 snowmen": "See https://news.example.org/a/b?c=d " + "\u2603" * 13000 + " Halvik met Maren.",
}


@pytest.mark.model
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_runs_go_through_the_whole_pipeline_in_a_second(case):
    from newsgraph.pipeline import extract_articles

    list(extract_articles([Article("warm", "Halvik met Maren.")]))
    text = HOSTILE[case]
    start = time.process_time()  # CPU time: other work on the machine does not count
    (result,) = extract_articles([Article("hostile", text)])
    quads = document_quads(result)
    assert time.process_time() - start <= 1.0
    assert quads


@pytest.mark.model
def test_too_long_and_too_slow_articles_are_skipped_with_id_and_reason(cli, tmp_path):
    slow_text = "Tomas Halvik met Idris Maren in Corvanne. " * 10_000  # 420,000 characters: seconds to parse
    feed = _feed(tmp_path / "feed.jsonl", [
        {"id": "short", "text": "Tomas Halvik met Idris Maren in Corvanne."},
        {"id": "huge", "text": "x " * 600},
        {"id": "slow", "text": slow_text},
        {"id": "after", "text": "Lena Castell met Rolf Denner in Port Selwyn."},
    ])
    out = tmp_path / "graph.nq"
    result = cli.run("build", feed, "-o", out, "--max-chars", "1000", "--doc-timeout", "2")
    assert result.exit_code == 3, result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped")]
    assert skipped == [
        f"skipped {feed}:2 (huge): 1,200 characters, longer than the limit of 1,000 (--max-chars)",
        f"skipped {feed}:3 (slow): 420,000 characters, longer than the limit of 1,000 (--max-chars)",
    ]
    result = cli.run("build", feed, "-o", tmp_path / "graph2.nq", "--max-chars", "500000", "--doc-timeout", "2")
    assert result.exit_code == 3, result.stderr
    assert f"skipped {feed}:3 (slow): took longer than 2 s to analyse (--doc-timeout)" in result.stderr.splitlines()
    assert "3 articles added, 0 unchanged, 1 skipped" in result.stderr
    assert set(named_quads(tmp_path / "graph2.nq")) == {doc_iri(d) for d in ("short", "huge", "after")}


@pytest.mark.model
def test_two_workers_build_what_one_builds(cli, tmp_path):
    one, two = tmp_path / "one.nq", tmp_path / "two.nq"
    cli.ok("build", ARTICLES, "-o", one, "--batch-size", "1")
    cli.ok("build", ARTICLES, "-o", two, "--batch-size", "1", "--workers", "2")
    assert named_quads(one) == named_quads(two)


@pytest.mark.model
def test_dask_cluster_builds_what_a_local_build_builds(cli, tmp_path):
    distributed = pytest.importorskip("distributed")
    local, remote = tmp_path / "local", tmp_path / "dask"
    cli.ok("build", ARTICLES, "-o", local, "-q")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = cli.ok("build", ARTICLES, "-o", remote, "--dask", cluster.scheduler_address, "--batch-size", "2")
    assert "4 articles added" in result.stderr
    assert named_quads(local) == named_quads(remote)
    assert isomorphic(merged_graph(local), merged_graph(remote))


def test_dask_and_workers_do_not_go_together(cli, tmp_path):
    result = cli.run("build", RIVER, "-o", tmp_path / "g.ttl", "--dask", "tcp://127.0.0.1:1", "--workers", "2")
    assert result.exit_code == 2 and "--workers and --dask" in result.stderr


# ------------------------------------------------------------ progress


def test_progress_shows_count_rate_and_eta_on_one_line():
    from newsgraph.cli import _Progress

    out = io.StringIO()
    bar = _Progress([str(ARTICLES)], stream=out)
    assert bar.total is None  # the folder holds a JSON Lines file: not read just to count it
    bar.total = 200
    bar.draw(50, 10.0)
    bar.draw(100, 20.0)
    bar.close()
    frames = out.getvalue().split("\r")
    assert frames[1].rstrip() == "50/200 articles, 5.0/s, ETA 0:00:30"
    assert frames[2].rstrip() == "100/200 articles, 5.0/s, ETA 0:00:20"
    assert frames[-1] == "", "the line is cleared at the end"


def test_count_is_unknown_for_json_lines_and_stdin(tmp_path):
    from newsgraph.read import count_articles

    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.md").write_text("y")
    assert count_articles([str(tmp_path)]) == 2
    assert count_articles([str(tmp_path), str(RIVER)]) == 3
    assert count_articles([str(FEED)]) is None
    assert count_articles(["-"]) is None


@pytest.mark.model
def test_no_progress_when_stderr_is_not_a_terminal(cli, tmp_path):
    result = cli.ok("build", RIVER, HARBOUR, "-o", tmp_path / "g.ttl")
    assert "\r" not in result.stderr


# ------------------------------------------------------------ remove


def test_remove_leaves_what_a_build_without_the_document_gives(cli, tmp_path):
    river, harbour = handmade_documents()
    both, alone = tmp_path / "both", tmp_path / "alone"
    write_documents(str(both), [river, harbour])
    write_documents(str(alone), [river])
    result = cli.ok("remove", both, "harbour")
    assert result.stderr == f"1 document removed; {sum(1 for _ in document_quads(river))} triples in {both}\n"
    assert named_quads(both) == named_quads(alone)
    assert isomorphic(merged_graph(both), merged_graph(alone))


def test_remove_refuses_unknown_ids_and_merged_files(cli, tmp_path):
    store = tmp_path / "store"
    write_documents(str(store), handmade_documents())
    before = named_quads(store)
    line = cli.fail("remove", store, "river", "nowhere")
    assert line == f"Error: no document 'nowhere' in '{store}'; nothing was removed"
    assert named_quads(store) == before
    write_documents(str(tmp_path / "g.ttl"), handmade_documents())
    assert "merges its documents" in cli.fail("remove", tmp_path / "g.ttl", "river")


def test_remove_rewrites_a_dataset_file(cli, tmp_path):
    river, harbour = handmade_documents()
    both, alone = tmp_path / "both.nq", tmp_path / "alone.nq"
    write_documents(str(both), [river, harbour])
    write_documents(str(alone), [river])
    cli.ok("remove", both, "harbour")
    assert both.read_bytes() == alone.read_bytes()


@pytest.mark.model
def test_remove_of_a_built_article_keeps_entities_others_state(cli, sample_store, tmp_path):
    rest = tmp_path / "rest"
    cli.ok("build", RIVER, HARBOUR, "-o", rest, "-q")  # the sample store without the feed's two articles
    cli.ok("remove", sample_store, "wire-0412", "wire-0413")
    assert named_quads(sample_store) == named_quads(rest)
    assert isomorphic(merged_graph(sample_store), merged_graph(rest))
    assert re.search(r"0 articles added, 2 unchanged", cli.ok("build", RIVER, HARBOUR, "-o", sample_store).stderr)


def test_workers_are_replaced_after_their_quota_of_items():
    outcomes = list(run_local(_FakeJob(), [[f"a{k}", f"b{k}"] for k in range(6)], workers=1, recycle=4))
    assert len(outcomes) == 12
    assert len({o.rsplit(" ", 1)[1] for _, o in outcomes}) == 3, "a fresh worker every 4 items"
