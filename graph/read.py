"""Article sources → a lazy stream of :class:`~newsgraph.records.Article` records.

An input is one of:

* ``-``: standard input. If its first non-whitespace character is ``{`` it is
  JSON Lines, otherwise one text article with id ``stdin-`` + the first 12 hex
  digits of the SHA-256 of its text.
* a ``.jsonl``, ``.ndjson`` or ``.json`` file: JSON Lines, one article object
  per line (see :func:`iter_articles`).
* a folder: every ``*.txt``, ``*.md``, ``*.jsonl`` and ``*.ndjson`` file below
  it, in sorted order; hidden files and folders and symlinked folders are
  left out. A text file's id is its path relative to the folder, without the
  suffix (``"2024/may/a"``).
* any other file: one text article whose id is the file name without suffix.

Text is decoded from UTF-8 (with or without a BOM) or UTF-16 with a BOM and is
otherwise kept exactly as written (CRLF included), so character offsets point
into the original; only a leading BOM is dropped. JSON Lines and folders are
streamed, never read whole.

Problems come in two sizes. An unusable *input* (a missing path, an empty,
binary or undecodable text file, a folder or JSON Lines file without a single
good article) raises :class:`~newsgraph.errors.InputError`.

With ``max_chars``, every input is read in bounded pieces: a text file,
stdin text or JSON Lines line that cannot fit in ``max_chars`` characters
(more than 4 bytes a character of text, 12 of JSON) is skipped once that many
bytes have been read, so memory stays bounded even for ``/dev/zero`` or an
endless pipe. A bad *record* (a
JSON line, a file inside a folder, a duplicate id) is reported as a
:class:`Skip` to ``on_skip``, or raises :class:`InputError` if there is no
``on_skip``. Nothing else escapes for bad input.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from .errors import InputError
from .iri import slug
from .records import Article

STDIN = "-"
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
FOLDER_SUFFIXES = frozenset({".txt", ".md", ".jsonl", ".ndjson"})

_STDIN_NAME = "<stdin>"
_CHUNK = 1 << 16
_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_NEWLINES = {"utf-8": b"\n", "utf-16-le": b"\n\x00", "utf-16-be": b"\x00\n"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_OPTIONAL_FIELDS = ("title", "date", "url")
# A character a reader sees: not whitespace, a control, a zero-width or a bidi formatting character.
_VISIBLE = re.compile("[^\\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


@dataclass(frozen=True)
class Skip:
    """A bad record that was skipped."""

    source: str  # "feed.jsonl:12" or "dir/a.txt"
    reason: str  # one line, human readable
    setting: str | None = None  # the build parameter whose limit it broke, as in NewsgraphError.setting


class _Bad(Exception):
    """Why a file or record is unusable; ``line`` when a text file's line is known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def iter_articles(
    inputs: Sequence[str],
    on_skip: Callable[[Skip], None] | None = None,
    stdin: BinaryIO | None = None,
    max_chars: int | None = None,
) -> Iterator[Article]:
    """Yield the articles of ``inputs`` (paths, folders or ``-``), lazily and in order.

    A JSON Lines record is an object with a non-empty string ``text``, an
    optional ``id`` (string or integer; missing or null gives
    ``"<file id>-<line number>"``) and optional ``title``, ``date`` and ``url``
    (string or null); other keys are ignored. Blank lines are ignored. A record
    with a key given twice is skipped rather than guessing which value was
    meant. Lone surrogate escapes (``"\\ud800"``) become U+FFFD, one for one.
    An id already read in this run is skipped as a duplicate.

    Every article's ``source`` says where it came from: ``"a.txt"``,
    ``"dir/b.md"``, ``"feed.jsonl:12"``, ``"<stdin>"``.

    >>> for article in iter_articles(["samples/"], on_skip=print):  # doctest: +SKIP
    ...     print(article.id, len(article.text))
    """
    if isinstance(inputs, str):
        raise TypeError("iter_articles() takes a sequence of inputs, not one string")
    inputs = [os.fspath(each) for each in inputs]
    for each in inputs:  # fail on a typo before reading anything
        if each != STDIN and not os.path.exists(each):
            raise InputError(f"cannot read '{each}': no such file or directory")
    reader = _Reader(on_skip, max_chars)
    for each in inputs:
        if each == STDIN:
            yield from reader.stdin(stdin if stdin is not None else sys.stdin.buffer)
        elif os.path.isdir(each):
            yield from reader.folder(each)
        else:
            yield from reader.named_file(each)


def count_articles(inputs: Sequence[str]) -> int | None:
    """How many articles ``inputs`` hold, when file names alone tell: text files and folders of them.

    None when stdin, a JSON Lines file or a missing path is among them:
    counting those would mean reading them.
    """
    total = 0
    for each in map(os.fspath, inputs):
        if each == STDIN or not os.path.exists(each):
            return None
        if os.path.isdir(each):
            for _, rel in _walk(each, lambda *_: None):
                if Path(rel).suffix.lower() in JSONL_SUFFIXES:
                    return None
                total += 1
        elif Path(each).suffix.lower() in JSONL_SUFFIXES:
            return None
        else:
            total += 1
    return total


class _Reader:
    """One run of :func:`iter_articles`: its skip policy and the ids seen so far."""

    def __init__(self, on_skip: Callable[[Skip], None] | None, max_chars: int | None = None) -> None:
        self.on_skip = on_skip
        self.max_chars = max_chars
        # A character takes at most 4 bytes in UTF-8 or UTF-16, and at most 12 in JSON ("\\ud83d\\ude00").
        self.text_bytes = None if max_chars is None else 4 * max_chars + 4
        self.line_bytes = None if max_chars is None else 12 * max_chars + (1 << 20)
        self.seen: dict[str, tuple[str, str]] = {}  # document IRI slug → id and source of its first article
        self.valid = 0  # well-formed records so far, duplicates included

    def too_long(self, source: str, size: int, line: bool = False) -> None:
        """Skip a text (``size`` bytes of it read) or a JSON Lines line (``size`` bytes long) too long for ``max_chars``."""
        self.valid += 1  # well-formed, only too long
        read = f"a line of {size:,} bytes" if line else f"stopped reading it after {size:,} bytes"
        self.skip(source, f"{read}: longer than the limit of {self.max_chars:,} characters", "max_chars")

    def skip(self, source: str, reason: str, setting: str | None = None) -> None:
        if self.on_skip is None:
            raise InputError(f"cannot read '{source}': {reason}", setting=setting)
        self.on_skip(Skip(source, reason, setting))

    def accept(self, article: Article) -> bool:
        """Count a well-formed article; False (and a skip) if its id, or one naming the same document, was seen."""
        self.valid += 1
        source = article.source or ""
        key = slug(article.id)
        first = self.seen.get(key)
        if first is not None:
            first_id, first_source = first
            if first_id == article.id:
                self.skip(source, f"duplicate id '{article.id}' (first read from {first_source})")
            else:
                self.skip(source, same_document(article.id, first_id) + f" (first read from {first_source})")
            return False
        self.seen[key] = (article.id, source)
        return True

    def named_file(self, path: str) -> Iterator[Article]:
        """A file named as an input: any problem with the file itself is fatal."""
        try:
            yield from self.file(path, Path(path).stem)
        except _Bad as bad:
            raise InputError(f"cannot read '{_where(path, bad)}': {bad.reason}") from None
        except OSError as err:
            raise InputError(f"cannot read '{path}': {_os_reason(err)}") from None

    def folder(self, root: str) -> Iterator[Article]:
        """Every article file below ``root``; a bad file is skipped, an empty folder is fatal."""
        valid_before, files = self.valid, 0
        for path, rel in _walk(root, self.skip):
            files += 1
            try:
                yield from self.file(path, rel[: -len(Path(rel).suffix)])
            except _Bad as bad:
                self.skip(_where(path, bad), bad.reason)
            except OSError as err:
                self.skip(path, _os_reason(err))
        if self.valid == valid_before:
            found = (
                f"none of its {files} article files could be read"
                if files
                else "no .txt, .md, .jsonl or .ndjson files in it"
            )
            raise InputError(f"cannot read '{root}': {found}")

    def file(self, path: str, doc_id: str) -> Iterator[Article]:
        """One JSON Lines or text file; raises :class:`_Bad` or :class:`OSError`."""
        if Path(path).suffix.lower() in JSONL_SUFFIXES:
            with open(path, "rb") as stream:
                yield from self.jsonl(path, _chunks(stream), doc_id)
        else:
            with open(path, "rb") as stream:
                data = _read_bounded(_chunks(stream), self.text_bytes)
            if isinstance(data, _Overlong):
                self.too_long(path, data)
                return
            text = _decode(data)
            article = Article(id=doc_id, text=text, source=path, title=headline(text))
            if self.accept(article):
                yield article

    def stdin(self, stream: BinaryIO) -> Iterator[Article]:
        """Standard input: JSON Lines if it starts with ``{``, else one text article."""
        chunks = _chunks(stream)
        head = b""
        for chunk in chunks:
            head += chunk
            if len(head) >= 4 and _first_char(head, len(head) - len(chunk) - 4) is not None:  # new bytes only
                break
            if self.text_bytes is not None and len(head) > self.text_bytes:
                break  # nothing but whitespace, and too much of it
        chunks = chain([head], chunks)
        try:
            if _first_char(head) == "{":
                yield from self.jsonl(_STDIN_NAME, chunks, "stdin")
                return
            data = _read_bounded(chunks, self.text_bytes)
            if isinstance(data, _Overlong):
                self.too_long(_STDIN_NAME, data)
                return
            text = _decode(data)
        except _Bad as bad:
            raise InputError(f"cannot read '{_where(_STDIN_NAME, bad)}': {bad.reason}") from None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        article = Article(id=f"stdin-{digest}", text=text, source=_STDIN_NAME)
        if self.accept(article):
            yield article

    def jsonl(self, name: str, chunks: Iterator[bytes], doc_id: str) -> Iterator[Article]:
        """The articles of one JSON Lines stream; raises :class:`_Bad` if it has none."""
        head = b""
        for chunk in chunks:  # enough bytes to see a BOM
            head += chunk
            if len(head) >= 4:
                break
        codec, bom = _sniff(head)
        newline = _NEWLINES[codec]
        lines = _split_lines(chain([head[bom:]], chunks), newline, self.line_bytes)
        valid_before, problems, first_problem = self.valid, 0, ""
        offset = bom  # byte offset of the current line in the stream
        for number, raw in enumerate(lines, start=1):
            line_offset, offset = offset, offset + (raw if isinstance(raw, _Overlong) else len(raw)) + len(newline)
            if isinstance(raw, _Overlong):
                problems += 1
                first_problem = first_problem or f"line {number}: longer than the limit of {self.max_chars:,} characters"
                self.too_long(f"{name}:{number}", raw, line=True)
                self.valid -= 1  # a line that long may be anything: it does not make the file a JSON Lines file
                continue
            try:
                record = _parse_line(raw, codec, line_offset)
                if record is None:  # a blank line
                    continue
                article = _article(record, f"{doc_id}-{number}", f"{name}:{number}")
            except _Bad as bad:
                problems += 1
                first_problem = first_problem or f"line {number}: {bad.reason}"
                self.skip(f"{name}:{number}", bad.reason)
                continue
            if self.accept(article):
                yield article
        if self.valid == valid_before:
            if not problems:
                raise _Bad("file is empty")
            raise _Bad(
                f"no valid article in {problems} non-blank lines (first problem: {first_problem}); "
                'expected JSON Lines: one object with a "text" string per line'
            )


def same_document(doc_id: str, other: str) -> str:
    """Why ``doc_id`` is refused when ``other``, a different id, mints the same document IRI."""
    ascii_only = _unusual(doc_id) or _unusual(other)  # then both as escapes, so the difference shows
    return (f"id {json.dumps(doc_id, ensure_ascii=ascii_only)} names the same document as id "
            f"{json.dumps(other, ensure_ascii=ascii_only)}: ids that differ only in whitespace, invisible characters "
            "or Unicode normalisation mint one document IRI; make the ids differ visibly")


def _unusual(doc_id: str) -> bool:
    """Whether an id holds characters a reader would not see as they differ: invisibles, combining marks, edge spaces."""
    return not doc_id.isprintable() or doc_id != doc_id.strip() or any(unicodedata.combining(c) for c in doc_id)


class _Overlong(int):
    """The size of a text or line that was too long to keep: only this many of its bytes were read."""


def _read_bounded(chunks: Iterable[bytes], limit: int | None) -> bytes | _Overlong:
    """The bytes of ``chunks``, or an :class:`_Overlong` as soon as there are more than ``limit``.

    Text that is not UTF-16 and holds a NUL byte is refused at the chunk that has it, so
    ``/dev/zero`` is refused at once; raises :class:`_Bad`.
    """
    data = bytearray()
    for chunk in chunks:
        if b"\0" in chunk and not (data or chunk).startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _Bad("looks binary (it contains NUL bytes)")
        data += chunk
        if limit is not None and len(data) > limit:
            return _Overlong(len(data))
    return bytes(data)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's bytes as they arrive (``read1`` does not wait for a full chunk)."""
    read = getattr(stream, "read1", stream.read)
    while chunk := read(_CHUNK):
        yield chunk


def _where(name: str, bad: _Bad) -> str:
    """``name``, or ``name:line`` when the problem's line is known."""
    return name if bad.line is None else f"{name}:{bad.line}"


def _os_reason(err: OSError) -> str:
    return (err.strerror or str(err)).lower()


def _walk(root: str, skip: Callable[[str, str], None]) -> Iterator[tuple[str, str]]:
    """Yield ``(path, relative posix path)`` of the article files below ``root``, sorted.

    Depth-first with a stack of open folders rather than recursion, so no
    depth of folders can exhaust Python's recursion limit.
    """
    stack = [("", _entries(root, skip))]
    while stack:
        rel, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        entry_rel = f"{rel}{entry.name}"
        try:
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry_rel + "/", _entries(entry.path, skip)))
            elif entry.is_file() and Path(entry.name).suffix.lower() in FOLDER_SUFFIXES:
                yield entry.path, entry_rel
        except OSError as err:
            skip(entry.path, _os_reason(err))


def _entries(folder: str, skip: Callable[[str, str], None]) -> Iterator[os.DirEntry[str]]:
    """The entries of one folder sorted by name (none, and a skip, if it cannot be listed)."""
    try:
        with os.scandir(folder) as scan:
            return iter(sorted(scan, key=lambda entry: entry.name))
    except OSError as err:
        skip(folder, _os_reason(err))
        return iter(())


def _sniff(head: bytes) -> tuple[str, int]:
    """The codec a byte-order mark announces (UTF-8 without one) and the BOM's length."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            if codec == "utf-32":
                raise _Bad("it is UTF-32, which newsgraph does not read; save it as UTF-8")
            return codec, len(bom)
    return "utf-8", 0


def _first_char(head: bytes, after: int = 0) -> str | None:
    """The first non-whitespace character of ``head`` (its first byte if not ASCII), looking from about ``after`` on."""
    try:
        codec, bom = _sniff(head)
    except _Bad:
        return "\0"
    width = 1 if codec == "utf-8" else 2
    begin = bom + max(0, after - bom) // width * width  # a character boundary
    for i in range(begin, len(head) - width + 1, width):
        unit = int.from_bytes(head[i : i + width], "big" if codec == "utf-16-be" else "little")
        if chr(unit) not in " \t\r\n":
            return chr(unit)
    return None


def _decode(data: bytes) -> str:
    """The text of a whole text file, without its BOM; raises :class:`_Bad`."""
    codec, bom = _sniff(data)
    body = data[bom:]
    if codec == "utf-8" and b"\0" in body:
        raise _Bad("looks binary (it contains NUL bytes)")
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as err:
        line = body[: err.start].decode(codec, "replace").count("\n") + 1
        raise _Bad(_undecodable(err, codec, bom), line) from None
    if "\0" in text:
        raise _Bad("looks binary (it contains NUL characters)")
    if not text.strip():
        raise _Bad("file is empty")
    if not _VISIBLE.search(text):
        raise _Bad("has no visible text (only control, zero-width or formatting characters)")
    return text


def _undecodable(err: UnicodeDecodeError, codec: str, offset: int) -> str:
    bad = err.object[err.start : err.end].hex()
    return (
        f"not valid {codec.upper()} at byte offset {offset + err.start} (0x{bad}); "
        "save the file as UTF-8"
    )


def _split_lines(chunks: Iterable[bytes], newline: bytes, limit: int | None = None) -> Iterator[bytes | _Overlong]:
    """Split a byte stream at ``newline``, lazily; the newline itself is dropped.

    A match counts only at a multiple of the newline's width from the line's
    start, so UTF-16's ``\\n\\0`` is not found straddling two other characters.
    A line longer than ``limit`` bytes is not kept: its bytes are dropped as
    they come and it is yielded as an :class:`_Overlong` of its length.
    """
    width = len(newline)
    buf = bytearray()
    search = 0  # where to look for the next newline in buf
    dropped = 0  # bytes of the current line already dropped
    for chunk in chunks:
        buf += chunk
        start = 0
        while (i := buf.find(newline, search)) >= 0:
            if (i - start) % width:
                search = i + 1
                continue
            yield _Overlong(dropped + i - start) if dropped else bytes(buf[start:i])
            dropped = 0
            start = search = i + width
        search = max(start, len(buf) - width + 1)  # bytes before this hold no newline
        del buf[:start]
        search -= start
        if limit is not None and len(buf) > limit:  # drop whole units, so a newline is still found at its place
            cut = len(buf) - len(buf) % width
            dropped += cut
            del buf[:cut]
            search = max(0, search - cut)
    if dropped:
        yield _Overlong(dropped + len(buf))
    elif buf:
        yield bytes(buf)


def _parse_line(raw: bytes, codec: str, offset: int) -> _Object | None:
    """One JSON Lines line as an object, None if blank; raises :class:`_Bad`."""
    if codec == "utf-8" and b"\0" in raw:
        raise _Bad("looks binary (it contains NUL bytes)")
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as err:
        raise _Bad(_undecodable(err, codec, offset)) from None
    if not text.strip():
        return None
    try:
        value = json.loads(text, object_pairs_hook=_Object.from_pairs)
    except RecursionError:
        raise _Bad("not valid JSON: nested too deeply") from None
    except json.JSONDecodeError as err:
        raise _Bad(f"not valid JSON: {err.msg} (column {err.colno})") from None
    except ValueError:  # Python's limit on digits in an integer
        raise _Bad("not valid JSON: a number has too many digits") from None
    if not isinstance(value, dict):
        raise _Bad(f"not a JSON object but {_json_type(value)}")
    if value.duplicates:
        raise _Bad(f"key '{value.duplicates[0]}' appears more than once")
    return value


class _Object(dict):
    """A parsed JSON object that remembers the keys it had more than once."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _Object:
        obj = cls(pairs)
        if len(obj) < len(pairs):
            counts = Counter(key for key, _ in pairs)
            obj.duplicates = tuple(sorted(key for key, n in counts.items() if n > 1))
        return obj


def _article(record: dict[str, Any], default_id: str, source: str) -> Article:
    """The article a JSON object describes; raises :class:`_Bad` if it is not one."""
    if "text" not in record:
        raise _Bad('no "text" field')
    text = record["text"]
    if not isinstance(text, str):
        raise _Bad(f'"text" must be a string, not {_json_type(text)}')
    if not text.strip():
        raise _Bad('"text" is empty')
    if not _VISIBLE.search(text):
        raise _Bad('"text" has no visible characters (only control, zero-width or formatting ones)')
    doc_id = record.get("id")
    if doc_id is None:
        doc_id = default_id
    elif isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
        raise _Bad(f'"id" must be a string or an integer, not {_json_type(doc_id)}')
    elif isinstance(doc_id, int):
        doc_id = str(doc_id)
    elif not doc_id.strip():
        raise _Bad('"id" is empty')
    extra: dict[str, str | None] = {}
    for key in _OPTIONAL_FIELDS:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise _Bad(f'"{key}" must be a string or null, not {_json_type(value)}')
        extra[key] = None if value is None else _fix_surrogates(value)
    return Article(id=_fix_surrogates(doc_id), text=_fix_surrogates(text), source=source, **extra)


def headline(text: str) -> str | None:
    """A text file's first line, when it reads as a headline: a line of its own, short, with no full stop.

    >>> headline("Rebels take Omri\\nRebels took the town of Omri on Monday.")
    'Rebels take Omri'
    """
    first, sep, rest = text.lstrip().partition("\n")
    first = first.strip()
    if not sep or not rest.strip() or not first or len(first) > 200 or first[-1] in ".!;:,":
        return None
    return " ".join(first.split())


def _fix_surrogates(s: str) -> str:
    """Replace lone surrogates (from ``\\ud800``-style escapes) with U+FFFD, one for one."""
    return _SURROGATE.sub("\ufffd", s)


def _json_type(value: object) -> str:
    """How a parsed JSON value is called in messages: "a number", "an array", ..."""
    for kind, name in ((bool, "a boolean"), ((int, float), "a number"), (str, "a string"),
                       (list, "an array"), (dict, "an object")):
        if isinstance(value, kind):
            return name
    return "null"
