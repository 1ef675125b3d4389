"""Tests for newsgraph.read: files, folders, JSON Lines and stdin → Article records."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import HOSTILE, hostile_table
from newsgraph.errors import InputError
from newsgraph.read import Skip, iter_articles
from newsgraph.records import Article


def read(inputs: list[str | Path], stdin: bytes | None = None) -> tuple[list[Article], list[Skip]]:
    """All articles and skips of ``inputs``."""
    skips: list[Skip] = []
    stream = io.BytesIO(stdin) if stdin is not None else None
    articles = list(iter_articles([str(i) for i in inputs], on_skip=skips.append, stdin=stream))
    return articles, skips


def fatal(inputs: list[str | Path], stdin: bytes | None = None, on_skip=None) -> str:
    """The InputError message of reading ``inputs``."""
    stream = io.BytesIO(stdin) if stdin is not None else None
    with pytest.raises(InputError) as caught:
        list(iter_articles([str(i) for i in inputs], on_skip=on_skip, stdin=stream))
    message = str(caught.value)
    assert "\n" not in message
    return message


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


# -- the hostile corpus, driven by its README -----------------------------------------------

def test_hostile_readme_lists_every_file() -> None:
    table = hostile_table()
    files = {p.name for p in HOSTILE.iterdir()} - {"README.md"}
    assert len(files) >= 30
    assert set(table) == files
    assert all(p.stat().st_size < 50_000 for p in HOSTILE.iterdir())


@pytest.mark.parametrize(("name", "expected"), sorted(hostile_table().items()))
def test_hostile_file(name: str, expected: str) -> None:
    path = HOSTILE / name
    if expected.startswith("fatal: "):
        assert expected.removeprefix("fatal: ") in fatal([path], on_skip=lambda skip: None)
        return
    good, skipped = map(int, re.fullmatch(r"(\d+) good, (\d+) skipped", expected).groups())
    articles, skips = read([path])
    assert (len(articles), len(skips)) == (good, skipped), skips
    for article in articles:
        assert article.text.strip() and article.source.startswith(str(path))
        assert not re.search("[\ud800-\udfff]", article.id + article.text + (article.title or ""))
    if skipped:  # without on_skip the first bad record is fatal
        assert str(path) in fatal([path])
    else:
        assert len(list(iter_articles([str(path)]))) == good


def test_hostile_folder_as_one_input() -> None:
    articles, skips = read([HOSTILE])
    assert len({a.id for a in articles}) == len(articles)
    assert any(s.reason.startswith("duplicate id") for s in skips)
    assert all(s.source.startswith(str(HOSTILE)) for s in skips)


# -- text files -------------------------------------------------------------------------------

def test_text_file_is_one_article_kept_exactly(tmp_path: Path) -> None:
    text = "Line one.\r\nLine two\twith tab.\r\n\r\n  trailing  \n"
    path = write(tmp_path / "report.2024.txt", text)
    [article], skips = read([path])
    assert article == Article(id="report.2024", text=text, source=str(path))
    assert skips == []


def test_any_other_suffix_is_text(tmp_path: Path) -> None:
    path = write(tmp_path / "page.html", "<p>Hello</p>")
    [article], _ = read([path])
    assert (article.id, article.text) == ("page", "<p>Hello</p>")


def test_utf8_bom_is_dropped_and_offsets_still_hold(tmp_path: Path) -> None:
    text = "Angela Merkel met Macron.\n"
    [article], _ = read([write(tmp_path / "a.txt", b"\xef\xbb\xbf" + text.encode())])
    assert article.text == text
    assert article.text[article.text.index("Macron") :].startswith("Macron")
    assert article.text.index("Macron") == text.index("Macron")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, codec: str) -> None:
    text = "Zoë Ünal 😀 visited Αθήνα.\r\n"
    [article], _ = read([write(tmp_path / "a.txt", ("\ufeff" + text).encode(codec))])
    assert article.text == text


SAVE_AS = "; save the file as UTF-8"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "cannot read '{}': file is empty"),
        (b" \n\t\r\n", "cannot read '{}': file is empty"),
        (b"\xef\xbb\xbf\n", "cannot read '{}': file is empty"),
        (b"abc\x00def", "cannot read '{}': looks binary (it contains NUL bytes)"),
        ("\ufeffa\x00b".encode("utf-16-le"), "cannot read '{}': looks binary (it contains NUL characters)"),
        (b"one\ntwo\nCaf\xe9\n", "cannot read '{}:3': not valid UTF-8 at byte offset 11 (0xe9)" + SAVE_AS),
        (b"\xef\xbb\xbfok\n\xff", "cannot read '{}:2': not valid UTF-8 at byte offset 6 (0xff)" + SAVE_AS),
    ],
)
def test_unusable_text_file_is_fatal(tmp_path: Path, data: bytes, message: str) -> None:
    path = write(tmp_path / "x.txt", data)
    assert fatal([path], on_skip=lambda skip: None) == message.format(path)


def test_missing_input_fails_before_anything_is_read(tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", "fine")
    missing = tmp_path / "nope.txt"
    stream = iter_articles([str(good), str(missing)])
    with pytest.raises(InputError, match=re.escape(f"cannot read '{missing}': no such file or directory")):
        next(stream)


def test_inputs_must_be_a_sequence_not_a_string(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        next(iter_articles(str(write(tmp_path / "a.txt", "x"))))


# -- JSON Lines -------------------------------------------------------------------------------

def test_jsonl_records_become_articles(tmp_path: Path) -> None:
    path = write(
        tmp_path / "feed.jsonl",
        jsonl(
            {"id": "a1", "text": "First.", "title": "T", "date": "2024-05-01", "url": "https://x/1", "extra": [1]},
            {"id": 42, "text": "Second.", "title": None},
            {"text": "No id."},
        ),
    )
    articles, skips = read([path])
    assert skips == []
    assert articles == [
        Article("a1", "First.", "T", "2024-05-01", "https://x/1", f"{path}:1"),
        Article("42", "Second.", source=f"{path}:2"),
        Article("feed-3", "No id.", source=f"{path}:3"),
    ]


def test_ndjson_and_json_suffixes_are_json_lines(tmp_path: Path) -> None:
    for suffix in (".ndjson", ".json", ".JSONL"):
        articles, _ = read([write(tmp_path / f"f{suffix}", jsonl({"text": suffix}))])
        assert [a.text for a in articles] == [suffix]


def test_bad_records_are_skipped_with_file_and_line(tmp_path: Path) -> None:
    lines = jsonl({"text": "ok"}) + "{oops\n\n" + jsonl([1], {"text": 3}, {"id": "x", "text": "ok2"})
    path = write(tmp_path / "feed.jsonl", lines)
    articles, skips = read([path])
    assert [a.text for a in articles] == ["ok", "ok2"]
    assert [s.source for s in skips] == [f"{path}:2", f"{path}:4", f"{path}:5"]
    assert skips[0].reason.startswith("not valid JSON")
    assert skips[1].reason == "not a JSON object but an array"
    assert skips[2].reason == '"text" must be a string, not a number'


def test_bad_record_without_on_skip_raises_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.jsonl", jsonl({"text": "ok"}, {"title": "no text"}))
    assert fatal([path]) == f"cannot read '{path}:2': no \"text\" field"


def test_jsonl_without_a_good_record_is_fatal_after_reporting(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.jsonl", "nope\n[]\n")
    skips: list[Skip] = []
    message = fatal([path], on_skip=skips.append)
    assert message.startswith(f"cannot read '{path}': no valid article in 2 non-blank lines (first problem: line 1: ")
    assert len(skips) == 2


def test_hostile_json_values(tmp_path: Path) -> None:
    lines = [
        '{"text": "deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"text": "big", "n": ' + "7" * 5000 + "}",
        '{"id": "d", "text": "a", "text": "b"}',
        '{"id": "s\\ud800", "text": "x\\udfffy", "title": "\\ud83d\\ude00"}',
    ]
    articles, skips = read([write(tmp_path / "f.jsonl", "\n".join(lines))])
    assert [s.reason for s in skips] == [
        "not valid JSON: nested too deeply",
        "not valid JSON: a number has too many digits",
        "key 'text' appears more than once",
    ]
    assert articles == [Article("s\ufffd", "x\ufffdy", "😀", source=f"{tmp_path / 'f.jsonl'}:4")]


def test_utf16_jsonl_with_newline_bytes_inside_characters(tmp_path: Path) -> None:
    # U+0A0A and U+0A00 contain 0x0a bytes; only aligned "\n" code units end a line
    records = [{"id": "\u0a0a", "text": "\u0a00\u0a0a"}, {"id": "b", "text": "\u0a0a" * 40_000}]
    for codec in ("utf-16-le", "utf-16-be"):
        path = write(tmp_path / f"{codec}.jsonl", ("\ufeff" + jsonl(*records)).encode(codec))
        articles, skips = read([path])
        assert [(a.id, a.text) for a in articles] == [(r["id"], r["text"]) for r in records]
        assert skips == []


def test_lines_longer_than_a_read_chunk(tmp_path: Path) -> None:
    records = [{"id": str(i), "text": "x" * (i * 7919 % 150_000 + 1)} for i in range(40)]
    articles, _ = read([write(tmp_path / "f.jsonl", jsonl(*records))])
    assert [(a.id, len(a.text)) for a in articles] == [(r["id"], len(r["text"])) for r in records]


def test_undecodable_jsonl_line_names_line_and_byte(tmp_path: Path) -> None:
    path = write(tmp_path / "f.jsonl", b'{"text": "ok"}\n{"text": "Caf\xe9"}\n')
    _, [skip] = read([path])
    assert skip == Skip(f"{path}:2", "not valid UTF-8 at byte offset 28 (0xe9); save the file as UTF-8")


# -- duplicates -------------------------------------------------------------------------------

def test_duplicate_ids_are_skipped_across_inputs(tmp_path: Path) -> None:
    text = write(tmp_path / "a.txt", "text file a")
    records = [{"id": "a", "text": "dup of a.txt"}, {"id": 1, "text": "x"}, {"id": "1", "text": "y"}]
    feed = write(tmp_path / "feed.jsonl", jsonl(*records))
    articles, skips = read([text, feed])
    assert [a.id for a in articles] == ["a", "1"]
    assert [(s.source, s.reason) for s in skips] == [
        (f"{feed}:1", f"duplicate id 'a' (first read from {text})"),
        (f"{feed}:3", f"duplicate id '1' (first read from {feed}:2)"),
    ]


def test_same_file_twice_is_duplicates_not_fatal(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "x")
    articles, skips = read([path, path])
    assert len(articles) == 1 and skips[0].reason.startswith("duplicate id")
    assert "duplicate id 'a'" in fatal([path, path])


# -- folders ----------------------------------------------------------------------------------

def test_folder_is_walked_recursively_sorted_without_hidden(tmp_path: Path) -> None:
    root = tmp_path / "news"
    write(root / "b.txt", "B")
    write(root / "a.md", "A")
    write(root / "2024" / "may" / "c.txt", "C")
    write(root / "2024" / "feed.jsonl", jsonl({"text": "J1"}, {"id": "j2", "text": "J2"}))
    write(root / "z.ndjson", jsonl({"text": "Z"}))
    write(root / ".hidden.txt", "hidden")
    write(root / ".git" / "x.txt", "hidden dir")
    write(root / "notes.json", jsonl({"text": "not picked up in folders"}))
    write(root / "image.png", b"\x89PNG\x00")
    articles, skips = read([root])
    assert skips == []
    assert [(a.id, a.text, a.source) for a in articles] == [
        ("2024/feed-1", "J1", f"{root}/2024/feed.jsonl:1"),
        ("j2", "J2", f"{root}/2024/feed.jsonl:2"),
        ("2024/may/c", "C", f"{root}/2024/may/c.txt"),
        ("a", "A", f"{root}/a.md"),
        ("b", "B", f"{root}/b.txt"),
        ("z-1", "Z", f"{root}/z.ndjson:1"),
    ]


def test_bad_files_in_a_folder_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "news"
    write(root / "a.txt", "good")
    write(root / "empty.txt", "")
    write(root / "latin.txt", b"x\nCaf\xe9")
    write(root / "bad.jsonl", "nope\n")
    articles, skips = read([root])
    assert [a.id for a in articles] == ["a"]
    assert [(s.source, s.reason.split(" (")[0]) for s in skips] == [
        (f"{root}/bad.jsonl:1", "not valid JSON: Expecting value"),
        (f"{root}/bad.jsonl", "no valid article in 1 non-blank lines"),
        (f"{root}/empty.txt", "file is empty"),
        (f"{root}/latin.txt:2", "not valid UTF-8 at byte offset 5"),
    ]
    assert fatal([root]) == f"cannot read '{root}/bad.jsonl:1': not valid JSON: Expecting value (column 1)"


def test_folder_without_articles_is_fatal(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    write(empty / ".hidden.txt", "x")
    write(empty / "data.csv", "a,b")
    assert fatal([empty]) == f"cannot read '{empty}': no .txt, .md, .jsonl or .ndjson files in it"
    bad = tmp_path / "bad"
    write(bad / "a.txt", " ")
    write(bad / "b.jsonl", "\n")
    skips: list[Skip] = []
    assert fatal([bad], on_skip=skips.append) == f"cannot read '{bad}': none of its 2 article files could be read"
    assert len(skips) == 2


def test_symlinked_folders_are_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "news"
    write(root / "a.txt", "A")
    os.symlink(root, root / "loop")
    articles, _ = read([root])
    assert [a.id for a in articles] == ["a"]


# -- stdin ------------------------------------------------------------------------------------

def test_stdin_text_gets_a_content_id() -> None:
    text = "  Plain text on stdin.\r\n"
    [article], _ = read(["-"], stdin=text.encode())
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    assert article == Article(f"stdin-{digest}", text, source="<stdin>")


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16"])
def test_stdin_json_lines(codec: str) -> None:
    data = ("\n  " + jsonl({"id": "x", "text": "one"}, {"text": "two"})).encode(codec)
    articles, _ = read(["-"], stdin=data)
    assert [(a.id, a.text, a.source) for a in articles] == [("x", "one", "<stdin>:2"), ("stdin-3", "two", "<stdin>:3")]


class Trickle(io.RawIOBase):
    """A pipe that hands out a few bytes per read, splitting characters and newlines."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.sizes = data, 0, [1, 3, 2, 5, 7, 4]

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        chunk = self.data[self.pos : self.pos + self.sizes[self.pos % len(self.sizes)]]
        self.pos += len(chunk)
        return chunk

    read = read1


@pytest.mark.parametrize("codec", ["utf-8", "utf-16-le", "utf-16-be"])
def test_stdin_arriving_in_odd_pieces(codec: str) -> None:
    records = [{"id": f"r{i}", "text": "\u0a0aé😀\r" * i} for i in range(1, 30)]
    data = ("\ufeff" + jsonl(*records)).encode(codec)
    articles = list(iter_articles(["-"], stdin=Trickle(data)))
    assert [(a.id, a.text) for a in articles] == [(r["id"], r["text"]) for r in records]


def test_stdin_defaults_to_sys_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(b"hello")))
    [article] = iter_articles(["-"])
    assert article.text == "hello"


@pytest.mark.parametrize("data", [b"", b" \n ", b"\xff\xfe"])
def test_empty_stdin_is_fatal(data: bytes) -> None:
    assert fatal(["-"], stdin=data) == "cannot read '<stdin>': file is empty"


# -- laziness ---------------------------------------------------------------------------------

def test_iter_articles_is_lazy(tmp_path: Path) -> None:
    path = write(tmp_path / "f.jsonl", jsonl({"text": "first"}) + "not json\n")
    stream = iter_articles([str(path)])
    assert isinstance(stream, types.GeneratorType)
    assert next(stream).text == "first"  # before the bad second line raises
    with pytest.raises(InputError, match=":2'"):
        next(stream)


def test_first_article_comes_before_the_stream_is_read() -> None:
    line = json.dumps({"text": "x" * 1000}).encode() + b"\n"
    stream = io.BytesIO(line * 20_000)  # ~20 MB
    articles = iter_articles(["-"], stdin=stream)
    next(articles)
    assert stream.tell() <= 2 * 65_536


# -- never a traceback ------------------------------------------------------------------------

RECORD_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)
RECORDS = st.dictionaries(st.sampled_from(["id", "text", "title", "date", "url", "x"]), RECORD_VALUES)
LINES = st.one_of(
    st.binary(max_size=40),
    RECORDS.map(lambda r: json.dumps(r).encode()),
    RECORDS.map(lambda r: json.dumps(r).encode()[: len(json.dumps(r)) // 2]),
    st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
STREAMS = st.tuples(
    st.sampled_from([b"", b"{", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"]),
    st.lists(LINES, max_size=6),
    st.sampled_from([b"\n", b"\r\n", b"\n\x00"]),
).map(lambda t: t[0] + t[2].join(t[1]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=STREAMS, suffix=st.sampled_from([".jsonl", ".txt", "-"]))
def test_any_bytes_give_articles_skips_or_input_error(tmp_path: Path, data: bytes, suffix: str) -> None:
    if suffix == "-":
        inputs, stdin = ["-"], io.BytesIO(data)
    else:
        inputs, stdin = [str(write(tmp_path / f"in{suffix}", data))], None
    skips: list[Skip] = []
    try:
        articles = list(iter_articles(inputs, on_skip=skips.append, stdin=stdin))
    except InputError as err:
        assert "\n" not in str(err)
        return
    assert articles
    assert len({a.id for a in articles}) == len(articles)
    assert all(isinstance(a.id, str) and a.text.strip() and a.source for a in articles)
    assert all("\n" not in s.reason for s in skips)


def test_a_text_files_headline_line_is_its_title(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Rebels take Omri\nRebels of the Halden Guard took Omri on Monday.\n")
    write(tmp_path / "b.txt", "Rebels of the Halden Guard took Omri on Monday.\nThey held it.\n")
    write(tmp_path / "c.txt", "Rebels take Omri\n")
    articles, _ = read([tmp_path])
    assert {Path(a.source).name: a.title for a in articles} == {"a.txt": "Rebels take Omri", "b.txt": None, "c.txt": None}
