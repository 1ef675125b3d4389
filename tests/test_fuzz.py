"""A fuzz run: generated bad inputs to build, query and export never end in a traceback.

Every run must end with one of the documented exits (0 done, 1 error, 2 usage,
3 completed with skips) and no Python traceback. The generator is seeded (SEED,
or NEWSGRAPH_TEST_SEED when set), so a failure names the case that reproduces it.
"""
from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import random_seed
from newsgraph.cli import main

CASES = {"build": 450, "query": 400, "export": 250}  # 1,100 in all
SEED = 20261201

VALID_QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 5",
    "ASK { ?s ng:captured ?o }",
    "CONSTRUCT { ?s ng:metWith ?o } WHERE { ?s ng:metWith ?o }",
    "SELECT ?l (COUNT(*) AS ?n) WHERE { ?e rdfs:label ?l } GROUP BY ?l",
    "DESCRIBE <https://w3id.org/newsgraph/entity/X>",
]
NASTY = ["\x00", "\ud800", "\u202e", "'", '"', "\\", "<", ">", "{", "}", "#", "\n", "🧨", "SERVICE", "LOAD",
         "FROM <file:///etc/passwd>", "INSERT DATA { <a> <b> <c> }", "DROP ALL", "$", "?", "^^", "@en", "..."]


def _mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randrange(len(chars) + 1)
        if op < 0.4 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.8:
            chars[pos:pos] = list(rng.choice(NASTY + list(string.printable)))
        else:
            chars = chars[:pos]
    return "".join(chars)


def _bad_bytes(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    if kind == 1:
        return ("\ufeff" + "".join(rng.choice(NASTY) for _ in range(40))).encode("utf-16", "surrogatepass")
    if kind == 2:
        return "Caf\xe9 cr\xe8me ".encode("latin-1") * rng.randint(1, 20)
    if kind == 3:
        return b""
    if kind == 4:
        return ("The Houthis captured Aden. " + "".join(rng.choice(NASTY) for _ in range(30))).encode("utf-8", "surrogatepass")
    return b"\n" * rng.randint(1, 5) + b" \t" * rng.randint(0, 5)


def _bad_jsonl(rng: random.Random) -> bytes:
    lines = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.randrange(8)
        if kind == 0:
            lines.append(json.dumps({"id": rng.randint(-5, 5), "text": "Hezbollah seized Qusair."}))
        elif kind == 1:
            lines.append("[" * rng.randint(1, 5000))
        elif kind == 2:
            lines.append('{"id": 1, "text": ' + "9" * rng.randint(1, 6000) + "}")
        elif kind == 3:
            lines.append(json.dumps({"id": "x", "text": rng.choice([None, 3, [], {}, "", " "])}))
        elif kind == 4:
            lines.append('{"id": "d", "id": "e", "text": "a"}')
        elif kind == 5:
            lines.append(_mutate(rng, json.dumps({"id": "m", "text": "Macron met Scholz.", "title": "t"})))
        elif kind == 6:
            lines.append(json.dumps({"id": "s", "text": "\ud800 Orban met Macron.", "url": "javascript:alert(1)"}))
        else:
            lines.append("".join(rng.choice(NASTY) for _ in range(10)))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _check(result, case: str) -> None:
    assert result.exit_code in (0, 1, 2, 3), f"{case}: exit {result.exit_code}"
    assert "Traceback" not in result.output, f"{case}: {result.output[-500:]}"
    assert "internal error" not in result.output, f"{case}: {result.output[-500:]}"
    if result.exit_code == 1:
        assert len(result.stderr.splitlines()) == 1, f"{case}: {result.stderr!r}"
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), f"{case}: {result.exception!r}"


@pytest.mark.model
@pytest.mark.slow
def test_fuzz_build_query_export(tmp_path: Path, handmade_ttl):
    rng = random.Random(random_seed(SEED))
    runner = CliRunner()
    tried = 0
    for i in range(CASES["build"]):
        case = f"build #{i}"
        kind = rng.randrange(4)
        src = tmp_path / f"in{i}{rng.choice(['.txt', '.jsonl', '.md', '', '.json'])}"
        if kind == 0:
            src.write_bytes(_bad_bytes(rng))
        elif kind == 1:
            src.write_bytes(_bad_jsonl(rng))
        elif kind == 2:
            src.mkdir()
            (src / "a.txt").write_bytes(_bad_bytes(rng))
        else:
            src = tmp_path / "does-not-exist" / f"{i}.txt"
        out = tmp_path / f"out{i}{rng.choice(['.ttl', '.nt', '.nq', '.trig', '.jsonld', '.tt', '', '.html'])}"
        result = runner.invoke(main, ["build", str(src), "-o", str(out), "-q", "--on-error", rng.choice(["skip", "fail"])])
        _check(result, case)
        tried += 1
    for i in range(CASES["query"]):
        case = f"query #{i}"
        text = _mutate(rng, rng.choice(VALID_QUERIES))
        args = ["query", str(handmade_ttl), text, "--format", rng.choice(["table", "csv", "tsv", "json", "xml"]),
                "--timeout", "5"]
        _check(runner.invoke(main, args), case)
        tried += 1
    for i in range(CASES["export"]):
        case = f"export #{i}"
        args = ["export", str(handmade_ttl), "-o",
                str(tmp_path / f"x{i}{rng.choice(['.html', '.graphml', '.gexf', '.ttl', '.nq', '.png', ''])}")]
        if rng.random() < 0.4:
            args += ["--focus", _mutate(rng, "Tarek Osman")]
        if rng.random() < 0.3:
            args += ["--relation", rng.choice(["captured", "metWith", "alliedTo", "nope", "", "\x00"])]
        if rng.random() < 0.3:
            q = tmp_path / f"q{i}.rq"
            q.write_text(_mutate(rng, rng.choice(VALID_QUERIES)), encoding="utf-8", errors="surrogatepass")
            args += ["--query", str(q)]
        _check(runner.invoke(main, args), case)
        tried += 1
    assert tried == sum(CASES.values()) >= 1000
