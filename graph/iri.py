"""The one place newsgraph mints IRIs, and cleans text for RDF literals.

Every IRI is the prefix of its kind (``doc:``, ``entity:``, ``mention:``,
``assertion:``, declared once in :data:`newsgraph.resources.PREFIXES`) followed
by ``slug(name)``. The slug algorithm is part of
the project's contract (the same name gives the same IRI in every release), so
it is spelt out here and pinned by tests:

1. *Drop invisibles*: lone surrogates (U+D800–U+DFFF), control characters
   (category Cc) that are not whitespace, bidi controls (U+200E, U+200F,
   U+202A–U+202E, U+2066–U+2069) and zero-width characters (U+200B–U+200D,
   U+2060, U+FEFF).
2. *Normalise* to Unicode NFC.
3. *Whitespace*: strip it from both ends and turn every inner run of
   whitespace (``str.isspace``: spaces, tabs, newlines, NBSP, ...) into one
   space. The result is the *cleaned name*; steps 4–6 are a reversible
   encoding of it, so distinct cleaned names give distinct slugs.
4. *Encode* each character: a space becomes ``_``; ASCII letters and digits,
   ``-``, ``.``, ``~`` and non-ASCII letters, digits and marks (categories L*,
   N*, M*) are kept if RFC 3987 (``ucschar``) and Turtle (``PN_CHARS``) both
   allow them unescaped (so not U+00AA ``ª``, U+00B5 ``µ``, U+00B2 ``²``,
   U+2460 ``①``, plane-14 variation selectors, ...); everything else is
   percent-encoded as upper-case UTF-8 escapes -- ``_`` and ``%`` included, so
   ``"a b"`` → ``a_b`` but ``"a_b"`` → ``a%5Fb``. A mark is kept only right
   after a kept letter, digit or mark (a mark after an escape would otherwise
   combine with its hex digit, e.g. ``%5E`` + U+0301 → ``%5É``), so slugs are
   themselves NFC. Trailing dots are escaped (``"U.S."`` → ``U.S%2E``), so a
   slug is never a ``.`` or ``..`` path segment, and a Turtle prefixed name
   never ends in ``\\.`` (which rdflib 7 cannot parse).
5. *Empty*: an empty slug becomes ``_`` (``"_"`` itself is ``%5F``).
6. *Long*: a slug longer than 100 characters is cut to at most 80, between
   encoded characters (never inside an escape), followed by ``-`` and the
   first 16 hex digits of the SHA-256 of the cleaned name (UTF-8). A slug is
   therefore at most 100 characters long.

Case is kept. Steps 1, 2 and the character categories follow the Unicode
database of the running Python, so a character that a later Unicode version
first assigns can change its slug; nothing else does.

>>> mint("entity", "Barack Obama")
'https://w3id.org/newsgraph/entity/Barack_Obama'
>>> slug('x" || true || "')
'x%22_%7C%7C_true_%7C%7C_%22'
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from .resources import PREFIXES

KINDS = ("doc", "entity", "mention", "assertion")  # what is minted, each under its own prefix

_MAX_SLUG = 100  # longer slugs are shortened ...
_CUT = 80  # ... to this many characters plus "-" and a hash
_HASH_HEX = 16

# Step 1: surrogates, non-whitespace controls, bidi controls, zero-width characters.
_INVISIBLE = re.compile(
    "[\ud800-\udfff\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
    "\u200e\u200f\u202a-\u202e\u2066-\u2069\u200b-\u200d\u2060\ufeff]"
)
_WHITESPACE = re.compile(r"\s+")
_ASCII_KEPT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.~")

# Non-ASCII characters a slug may hold unescaped: RFC 3987 ``ucschar`` that are
# also Turtle ``PN_CHARS``, so serialisers may write them in prefixed names.
_SAFE_RANGES = (
    (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x37D), (0x37F, 0x1FFF), (0x2070, 0x218F),
    (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFEF),
) + tuple((plane, plane + 0xFFFD) for plane in range(0x10000, 0xE0000, 0x10000)) + (
    (0xE1000, 0xEFFFD),
)

# clean_text: lone surrogates become U+FFFD, controls other than \t \n \r go.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def mint(kind: str, name: str) -> str:
    """Return the IRI of the thing of ``kind`` called ``name``.

    ``kind`` is one of :data:`KINDS`, chosen by the code; ``name`` may be
    anything.

    >>> mint("doc", "2024/05 report")
    'https://w3id.org/newsgraph/doc/2024%2F05_report'
    """
    if kind not in KINDS:
        raise ValueError(f"IRI kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return PREFIXES[kind] + slug(name)


def slug(name: str) -> str:
    """Return the IRI path segment for ``name`` (see the module docstring).

    >>> slug("Zoë Ünal"), slug("a_b"), slug("")
    ('Zoë_Ünal', 'a%5Fb', '_')
    """
    cleaned = _clean_name(name)
    pieces = _encode(cleaned)
    for i in range(len(pieces) - 1, -1, -1):  # trailing dots, see step 4
        if pieces[i] != ".":
            break
        pieces[i] = "%2E"
    if not pieces:
        return "_"
    if sum(map(len, pieces)) <= _MAX_SLUG:
        return "".join(pieces)
    head: list[str] = []
    size = 0
    for piece in pieces:
        if size + len(piece) > _CUT:
            break
        head.append(piece)
        size += len(piece)
    digest = hashlib.sha256(cleaned.encode("utf-8")).hexdigest()[:_HASH_HEX]
    return "".join(head) + "-" + digest


def clean_text(s: str) -> str:
    """Return ``s`` safe for an RDF literal in every serialisation.

    Lone surrogates become U+FFFD (one for one, so offsets hold); control
    characters (C0, DEL, C1) other than tab, newline and carriage return are
    dropped; everything else is kept.

    >>> clean_text("a\\x00b\\ud800c\\n") == "ab\\ufffdc\\n"
    True
    """
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", s))


def _clean_name(name: str) -> str:
    """Steps 1–3: the cleaned name that the slug encodes."""
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", name))
    return _WHITESPACE.sub(" ", text).strip()


def _encode(cleaned: str) -> list[str]:
    """Step 4: one slug piece (a kept character or its escapes) per character."""
    pieces: list[str] = []
    after_base = False  # whether the previous character was kept as a letter/digit/mark
    for ch in cleaned:
        if ch == " ":
            pieces.append("_")
            after_base = False
        elif ch in _ASCII_KEPT:
            pieces.append(ch)
            after_base = ch.isalnum()
        elif _iri_safe(ord(ch)) and _keeps(ch, after_base):
            pieces.append(ch)
            after_base = True
        else:
            pieces.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
            after_base = False
    return pieces


def _keeps(ch: str, after_base: bool) -> bool:
    """Whether a non-ASCII character is kept: letters and digits, marks after them."""
    major = unicodedata.category(ch)[0]
    return major in "LN" or (major == "M" and after_base)


def _iri_safe(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in _SAFE_RANGES)
