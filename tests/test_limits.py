"""Nothing lost, nothing unbounded (issue 13, item 7): ids that mint one document, sizes, depths, locks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers import NG
from newsgraph.read import iter_articles

TEXT_A = "Anika Varga met Rolf Denner in Port Selwyn."
TEXT_B = "Tarek Osman captured the harbour of Port Selwyn."


def stored_texts(path: Path) -> dict[str, str]:
    """``{document id: content hash}`` of a built graph file or store."""
    from newsgraph.store import open_source

    graph = open_source(str(path))
    try:
        rows = graph.query("SELECT ?id ?h WHERE { GRAPH ?d { ?d ng:documentId ?id ; ng:contentHash ?h } }",
                           prefixes={"ng": NG}).rows
        return {doc_id.value: digest.value for doc_id, digest in rows}
    finally:
        graph.close()


# -------------------------------------------------------------- ids that mint one document IRI

COLLIDING = [
    ("a b", "a  b"),  # a run of spaces
    ("a b", "a\tb"),
    ("ab", "a\u200bb"),  # zero-width space
    ("ab", "a\x01b"),  # a control character
    ("\u00e9t\u00e9", "e\u0301te\u0301"),  # NFC and NFD
    ("ab", "\u200eab"),  # a bidi mark
    ("ab", " ab "),
]


@pytest.mark.parametrize("first, second", COLLIDING)
def test_ids_that_mint_one_document_are_refused_not_merged(first, second):
    from newsgraph.build import doc_iri

    assert doc_iri(first) == doc_iri(second)  # the premise: one IRI for both
    skips = []
    lines = [json.dumps({"id": first, "text": TEXT_A}), json.dumps({"id": second, "text": TEXT_B})]
    import io

    articles = list(iter_articles(["-"], on_skip=skips.append, stdin=io.BytesIO("\n".join(lines).encode())))
    assert [a.text for a in articles] == [TEXT_A]
    [skip] = skips
    assert skip.source == "<stdin>:2"
    assert "names the same document as id" in skip.reason and "first read from <stdin>:1" in skip.reason


def test_file_names_in_nfc_and_nfd_are_refused_not_merged(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "\u00e9.txt").write_text(TEXT_A, encoding="utf-8")
    (folder / "e\u0301.txt").write_text(TEXT_B, encoding="utf-8")
    skips = []
    articles = list(iter_articles([str(folder)], on_skip=skips.append))
    assert len(articles) == 1 and len(skips) == 1
    assert '"e\\u0301" names the same document as id "\\u00e9"' in skips[0].reason or \
        '"\\u00e9" names the same document as id "e\\u0301"' in skips[0].reason


@pytest.mark.model
def test_a_build_does_not_count_an_overwritten_article(cli, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a b", "text": TEXT_A}) + "\n" + json.dumps({"id": "a  b", "text": TEXT_B}) + "\n",
                    encoding="utf-8")
    out = tmp_path / "g.nq"
    result = cli.run("build", feed, "-o", out)
    assert result.exit_code == 3  # completed, with a skip
    assert f'skipped {feed}:2: id "a  b" names the same document as id "a b"' in result.stderr
    assert "1 article added, 0 unchanged, 1 skipped" in result.stderr
    assert list(stored_texts(out)) == ["a b"]


@pytest.mark.model
def test_a_later_build_does_not_replace_a_stored_document_of_another_id(cli, tmp_path):
    store = tmp_path / "store"
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first.write_text(json.dumps({"id": "\u00e9t\u00e9", "text": TEXT_A}) + "\n", encoding="utf-8")
    second.write_text(json.dumps({"id": "e\u0301te\u0301", "text": TEXT_B}) + "\n", encoding="utf-8")
    cli.ok("build", first, "-o", store)
    before = stored_texts(store)
    result = cli.run("build", second, "-o", store)
    assert result.exit_code == 3
    assert "names the same document as id" in result.stderr and f"already in {store}" in result.stderr
    assert "0 articles added, 0 unchanged, 1 skipped" in result.stderr
    assert stored_texts(store) == before
    first.write_text(json.dumps({"id": "\u00e9t\u00e9", "text": TEXT_B}) + "\n", encoding="utf-8")
    cli.ok("build", first, "-o", store)  # the same id still replaces its own document
    assert list(stored_texts(store)) == ["\u00e9t\u00e9"] and stored_texts(store) != before


# -------------------------------------------------------------- bounded reads

def newsgraph(*args: str, input: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``newsgraph ARGS`` in its own process; its peak memory in kB is the last line of stderr.

    VmHWM, not ru_maxrss: that one carries the parent's peak (pytest's, with a model loaded) across exec."""
    code = ("import sys\nfrom newsgraph.cli import main\n"
            "try:\n    main(sys.argv[1:])\nfinally:\n"
            "    print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')), file=sys.stderr)")
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], input=input, capture_output=True, timeout=timeout)


def peak_mb(run: subprocess.CompletedProcess) -> float:
    return int(run.stderr.decode().splitlines()[-1]) / 1024


def message(run: subprocess.CompletedProcess) -> list[str]:
    lines = run.stderr.decode().splitlines()[:-1]
    assert not any("Traceback" in line or "internal error" in line for line in lines), lines
    return lines


def test_dev_zero_is_refused_at_once(tmp_path):
    run = newsgraph("build", "/dev/zero", "-o", tmp_path / "x.nq", timeout=60)
    assert run.returncode == 1
    assert message(run) == ["Error: cannot read '/dev/zero': looks binary (it contains NUL bytes)"]
    assert peak_mb(run) < 200
    assert not (tmp_path / "x.nq").exists()


def test_an_endless_named_input_stops_at_max_chars(tmp_path):
    fifo = tmp_path / "endless.txt"
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed() -> None:  # writes until the reader goes away
        try:
            with open(fifo, "wb") as f:
                while not stop.is_set():
                    f.write(b"Anika Varga met Rolf Denner in Port Selwyn. " * 1000)
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        run = newsgraph("build", fifo, "-o", tmp_path / "x.nq", "--max-chars", "100000", timeout=60)
    finally:
        stop.set()
    assert run.returncode == 3
    first = message(run)[0]
    assert first.startswith(f"skipped {fifo}: stopped reading it after ")
    assert first.endswith(": longer than the limit of 100,000 characters (--max-chars)")
    assert int(first.split("after ")[1].split(" ")[0].replace(",", "")) < 600_000  # 4 bytes a character, and a chunk
    assert peak_mb(run) < 200


def test_a_long_text_on_stdin_is_read_only_up_to_the_limit(tmp_path):
    run = newsgraph("build", "-", "-o", tmp_path / "x.nq", "--max-chars", "1000", input=b"a" * 50_000_000)
    assert run.returncode == 3
    assert message(run)[0].startswith("skipped <stdin>: stopped reading it after ")
    assert message(run)[0].endswith(": longer than the limit of 1,000 characters (--max-chars)")
    assert peak_mb(run) < 150  # the 50 MB were never held


def test_an_overlong_json_line_is_dropped_as_it_comes_and_the_next_one_read():
    from newsgraph.read import _split_lines

    def chunks():
        yield b'{"id": "big", "text": "'
        for _ in range(2000):
            yield b"a" * 65536  # 130 MB in all
        yield b'"}\n{"id": "ok", "text": "Anika Varga met Rolf Denner."}\n'

    sizes = [len(line) if isinstance(line, bytes) else None for line in _split_lines(chunks(), b"\n", limit=1 << 20)]
    assert sizes == [None, 52]
    skips = []
    import io

    data = b'{"id": "big", "text": "' + b"a" * 3_000_000 + b'"}\n{"id": "ok", "text": "Anika Varga met Rolf Denner."}\n'
    articles = list(iter_articles(["-"], on_skip=skips.append, stdin=io.BytesIO(data), max_chars=100))
    assert [a.id for a in articles] == ["ok"]
    assert skips[0].source == "<stdin>:1" and "a line of 3,000,025 bytes" in skips[0].reason


def test_utf16_lines_still_split_where_they_end_when_a_line_is_dropped():
    from newsgraph.read import _split_lines

    text = ("x" * 5000 + "\n" + "short\n" + "y" * 7 + "\n").encode("utf-16-le")
    pieces = [text[i:i + 333] for i in range(0, len(text), 333)]  # odd-sized chunks straddle characters
    lines = list(_split_lines(iter(pieces), "\n".encode("utf-16-le"), limit=1000))
    assert not isinstance(lines[0], bytes) and int(lines[0]) == 10000
    assert [line.decode("utf-16-le") for line in lines[1:]] == ["short", "y" * 7]


# -------------------------------------------------------------- deep queries, request bodies

DEEP = "SELECT * WHERE " + "{" * 3000 + "}" * 3000


@pytest.mark.parametrize("sparql", [DEEP, "SELECT * WHERE { FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }",
                                    "SELECT * WHERE { ?s ?p " + "[ ?p " * 3000 + "1" + " ]" * 3000 + " }"])
def test_deep_nesting_is_one_error_line_not_a_crash(sparql, tmp_path, handmade_ttl):
    query = tmp_path / "deep.rq"
    query.write_text(sparql, encoding="utf-8")
    run = newsgraph("query", handmade_ttl, "-f", query, timeout=60)
    assert run.returncode == 1  # a segfault was 139
    assert message(run) == ["Error: the query nests brackets more than 256 deep, which newsgraph does not run; flatten it"]


def test_a_long_chain_runs_on_a_stack_big_enough(tmp_path, handmade_ttl):
    query = tmp_path / "chain.rq"
    query.write_text("ASK { FILTER(" + "!" * 20000 + "true) }", encoding="utf-8")  # overflowed an 8 MB stack
    run = newsgraph("query", handmade_ttl, "-f", query, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode() == "yes\n"


def test_nesting_within_the_limit_still_runs(cli, handmade_ttl):
    assert cli.ok("query", handmade_ttl, "ASK " + "{" * 200 + "}" * 200).stdout == "yes\n"


# ``served``: the read-only server over the handmade graph, from conftest.


def post(url: str, body: bytes, media: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers={"Content-Type": media}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def test_a_deep_query_is_a_400_and_the_server_stays_up(served):
    status, text = post(served.url, DEEP.encode(), "application/sparql-query")
    assert status == 400 and "nests brackets more than 256 deep" in text
    status, text = post(served.url, b"ASK {}", "application/sparql-query")
    assert status == 200 and "true" in text


@pytest.mark.parametrize("body, media, reason", [
    ("ASK { FILTER(\"caf\u00e9\" != \"\") }".encode("latin-1"), "application/sparql-query", "not valid UTF-8"),
    (b"ASK {}", "application/sparql-query; charset=ISO-8859-1", "declared as iso-8859-1"),
    (b"query=ASK%20%7B%20FILTER(%22caf%E9%22)%20%7D", "application/x-www-form-urlencoded", "not UTF-8"),
    (b"query=ASK%20%7B%7D", "application/x-www-form-urlencoded; charset=latin1", "declared as latin1"),
])
def test_a_body_that_is_not_utf8_is_a_400_saying_so(served, body, media, reason):
    status, text = post(served.url, body, media)
    assert status == 400 and reason in text and "UTF-8" in text


def test_a_utf8_form_and_body_still_work(served):
    assert post(served.url, "ASK { FILTER(\"caf\u00e9\" != \"\") }".encode(), "application/sparql-query; charset=UTF-8")[0] == 200
    assert post(served.url, b"query=ASK%20%7B%20FILTER(%22caf%C3%A9%22)%20%7D", "application/x-www-form-urlencoded")[0] == 200


# -------------------------------------------------------------- the smaller items

TRIPLE_TERM = "SELECT (<<( <urn:a> <urn:b> <urn:c> )>> AS ?t) WHERE {}"


@pytest.mark.parametrize("fmt", ["csv", "xml"])
def test_a_triple_term_in_csv_or_xml_is_a_clear_error(cli, handmade_ttl, fmt):
    line = cli.fail("query", handmade_ttl, TRIPLE_TERM, "--format", fmt)
    assert line == (f"Error: the results hold a triple term (<< ... >>), which {fmt.upper()} results cannot write; "
                    "ask for json, tsv or table")


def test_a_triple_term_in_json_or_tsv_is_written(cli, handmade_ttl):
    assert "<urn:a> <urn:b> <urn:c>" in cli.ok("query", handmade_ttl, TRIPLE_TERM, "--format", "tsv").stdout
    assert '"type": "triple"' in cli.ok("query", handmade_ttl, TRIPLE_TERM, "--format", "json").stdout


@pytest.mark.parametrize("accept", ["text/csv", "application/sparql-results+xml"])
def test_a_triple_term_the_format_cannot_hold_is_a_406_in_serve(served, accept):
    import urllib.error
    import urllib.parse
    import urllib.request

    request = urllib.request.Request(served.url + "?" + urllib.parse.urlencode({"query": TRIPLE_TERM}),
                                     headers={"Accept": accept})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 406 and "triple term" in caught.value.read().decode()


def test_a_mention_count_that_is_not_a_number_does_not_break_export(cli, tmp_path):
    graph = tmp_path / "odd.nq"
    ng, d, e, m = NG, "https://w3id.org/newsgraph/doc/x", "https://w3id.org/newsgraph/entity/A", "urn:m"
    lines = [f'<{d}> <{ng}mentioning> <{m}> <{d}> .', f'<{m}> <{ng}entity> <{e}> <{d}> .',
             f'<{e}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ng}Person> <{d}> .',
             f'<{e}> <http://www.w3.org/2000/01/rdf-schema#label> "A" <{d}> .',
             f'<{m}> <{ng}mentionCount> "\u00b2" <{d}> .', f'<{m}> <{ng}mentionCount> "{"9" * 5000}" <{d}> .']
    graph.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for out in ("g.html", "g.graphml", "g.gexf"):
        cli.ok("export", graph, "-o", tmp_path / out)
        assert (tmp_path / out).stat().st_size > 0


def usage_error(cli, *args) -> str:
    """The error line of a click usage error (exit 2, after the usage lines)."""
    result = cli.run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.stderr.splitlines()[-1]


def test_dask_address_that_dask_cannot_read_is_a_usage_error(cli, tmp_path):
    pytest.importorskip("distributed")
    line = usage_error(cli, "build", tmp_path / "none.txt", "-o", tmp_path / "x.nq", "--dask", "::::")
    assert "Invalid value for '--dask': '::::' is not a scheduler address" in line


@pytest.mark.parametrize("command", [["build", "-", "-o", "x.nq", "--doc-timeout"], ["query", "g.ttl", "ASK {}", "--timeout"],
                                     ["serve", "g.ttl", "--timeout"], ["export", "g.ttl", "-o", "g.html", "--timeout"]])
def test_nan_seconds_is_refused(cli, command):
    line = usage_error(cli, *command, "nan")
    assert "nan is not a number of seconds" in line


@pytest.mark.parametrize("text", ["\x01\x02\x03", "\u200b\u200d\ufeff", "\u200e\u202e \n\t", "\x7f\x85\x9f"])
def test_a_text_of_only_invisible_characters_is_not_a_document(tmp_path, text):
    import io

    skips = []
    feed = (json.dumps({"id": "ghost", "text": text}) + "\n" + json.dumps({"id": "real", "text": TEXT_A}) + "\n").encode()
    articles = list(iter_articles(["-"], on_skip=skips.append, stdin=io.BytesIO(feed)))
    assert [a.id for a in articles] == ["real"]
    assert skips[0].source == "<stdin>:1" and "no visible characters" in skips[0].reason
    path = tmp_path / "ghost.txt"
    path.write_text(text, encoding="utf-8")
    skips = []
    from newsgraph.errors import InputError

    with pytest.raises(InputError, match="has no visible text"):
        list(iter_articles([str(path)]))


# -------------------------------------------------------------- a store this process cannot write

def read_only(store: Path, *args: str) -> list[str]:
    """``newsgraph ARGS`` run where ``store`` cannot be written: a read-only mount for root, else permissions."""
    command = [sys.executable, "-m", "newsgraph.cli", *map(str, args)]
    if os.geteuid() != 0:
        for path in [store, *store.iterdir()]:
            path.chmod(path.stat().st_mode & ~0o222)
        return command
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("root without a private mount namespace: no way to make the store read-only for it")
    import shlex

    return ["unshare", "-m", "sh", "-c", f"mount --bind -o ro {shlex.quote(str(store))} {shlex.quote(str(store))} && "
            f"exec {shlex.join(command)}"]


def test_query_reads_a_read_only_store(handmade_store):
    run = subprocess.run(read_only(handmade_store, "query", handmade_store, "ASK { ?s a ng:Person }"),
                         capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == b"yes\n"


def test_serve_reads_a_read_only_store(handmade_store):
    import select
    import urllib.parse
    import urllib.request

    process = subprocess.Popen(read_only(handmade_store, "serve", handmade_store, "--port", "0"),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stderr], [], [], 30)
        line = process.stderr.readline() if ready else ""
        assert line.startswith("serving "), line + process.stderr.read() if process.poll() is not None else line
        url = line.split(" at ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "?" + urllib.parse.urlencode({"query": "ASK { ?s a ng:Person }"}), timeout=30) as r:
            assert r.status == 200 and json.loads(r.read())["boolean"] is True
    finally:
        process.terminate()
        process.wait(10)


# -------------------------------------------------------------- a second writer

def test_a_file_output_refuses_a_second_build_while_the_first_writes(cli, tmp_path):
    out = tmp_path / "g.nq"
    code = (f"import sys\nfrom newsgraph.store import open_target\ng = open_target({str(out)!r})\n"
            "print('open', flush=True)\nsys.stdin.readline()\ng.close()")
    first = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "open"  # a build in progress
        feed = tmp_path / "a.txt"
        feed.write_text(TEXT_A, encoding="utf-8")
        line = cli.fail("build", feed, "-o", out)
        assert line == f"Error: '{out}' is being written by another newsgraph build; wait for it to finish"
    finally:
        first.communicate("done\n", timeout=30)
    assert first.returncode == 0
    assert out.exists() and not (tmp_path / ".g.nq.lock").exists()  # the first one wrote, and cleaned up
    from newsgraph.store import open_target

    open_target(str(out)).close()  # once it is done, the next build may write


def test_a_store_another_process_is_creating_is_in_use_not_foreign(tmp_path):
    from newsgraph.errors import StoreError
    from newsgraph.store import open_target

    store = tmp_path / "store"
    store.mkdir()
    (store / "LOG").write_text("")  # what RocksDB writes first, before CURRENT and IDENTITY
    code = f"import fcntl, sys, time\nf = open({str(store / 'LOCK')!r}, 'a+b')\nfcntl.lockf(f, fcntl.LOCK_EX)\n" \
           "print('locked', flush=True)\ntime.sleep(30)"
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "locked"
        with pytest.raises(StoreError, match="is in use by another process"):
            open_target(str(store))
    finally:
        other.kill()
        other.wait()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(StoreError, match="neither empty nor an Oxigraph store"):
        open_target(str(tmp_path / "mine"))
