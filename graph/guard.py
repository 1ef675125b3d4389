"""The SERVICE/LOAD guard: SPARQL read as Oxigraph reads it, and a thread that cannot reach the network.

Two walls keep queries and updates offline.

1. :func:`forbidden` finds ``SERVICE`` and ``LOAD`` in the text the engine will parse. It follows
   the SPARQL 1.1 (and 1.2) terminals exactly: comments end at CR or LF; whitespace is space,
   tab, CR and LF only; an IRI cannot hold a space, so ``<a b>`` is not one; prefixed names
   hold ``-`` and ``.``; numbers may be followed by letters; strings come in four quote styles
   with escapes; language tags hold ``-``. Where Oxigraph's parser is looser than the grammar it
   follows Oxigraph: its keywords need no word boundary (``1SERVICE``, ``trueSERVICE``,
   ``SERVICESILENT``, ``SERVICEng:x`` all run), and inside parentheses a ``<`` after a value
   may be "less than" rather than the start of an IRI, so both readings are checked.
2. :func:`no_network` installs a seccomp filter on the calling thread (and the threads it
   starts) that refuses Internet sockets, so whatever the engine parses, it cannot connect.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from .errors import QueryError

_BASE = ("A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
         "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
_U = _BASE + "_"
_EXTRA = "0-9\u00b7\u0300-\u036f\u203f-\u2040"
_CHARS = _U + "\\-" + _EXTRA
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PREFIX = f"[{_BASE}](?:[{_CHARS}.]*[{_CHARS}])?"
_LOCAL = f"(?:[{_U}:0-9]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?"

# One token after optional whitespace; the alternatives are tried in order, so the longer forms come first.
_TOKEN = re.compile(
    r"[ \t\r\n]*(?:"
    r"(?P<comment>#[^\r\n]*)"
    r'|(?P<string>"""(?:(?:""|")?(?:[^"\\]|\\[\s\S]))*"""'
    r"|'''(?:(?:''|')?(?:[^'\\]|\\[\s\S]))*'''"
    r'|"(?:[^"\\\r\n]|\\[^\r\n])*"'
    r"|'(?:[^'\\\r\n]|\\[^\r\n])*')"
    r"|(?P<iri><(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)"
    f"|(?P<var>[?$][{_U}0-9][{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)"
    r"|(?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*(?:--[a-zA-Z]+)?)"
    f"|(?P<bnode>_:[{_U}0-9](?:[{_CHARS}.]*[{_CHARS}])?)"
    r"|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    f"|(?P<pname>(?:{_PREFIX})?:(?:{_LOCAL})?)"
    r"|(?P<word>[A-Za-z]+)"
    r"|(?P<other>[^ \t\r\n]))"
)
_KEYWORD = re.compile(r"service|load", re.I | re.A)
_SILENT = re.compile(r"silent", re.I | re.A)
_PREFIX_WORD = re.compile(r"prefix", re.I | re.A)
# A "<" right after one of these, inside parentheses, may be Oxigraph's less-than operator.
_VALUES = frozenset({"var", "string", "iri", "langtag", "bnode", "number", "pname", "word"})
MAX_READINGS = 64
# Oxigraph parses and evaluates nested groups recursively; thousands of them overflow the stack of the
# thread that runs the query (a segfault). Real queries nest a few levels.
MAX_DEPTH = 256


def tokens(text: str, pos: int = 0, no_iri_at: int = -1) -> Iterator[tuple[str, str, int]]:
    """``(kind, text, start)`` for each token from ``pos`` on, comments included; the lexer never fails
    (a character no token starts with is an ``other`` token), so the engine reports syntax errors."""
    n = len(text)
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:  # only whitespace is left
            return
        kind = m.lastgroup
        start = m.start(kind)
        if kind == "iri" and start == no_iri_at:  # the other reading: "<" as an operator
            yield "other", "<", start
            pos = start + 1
            no_iri_at = -1
            continue
        yield kind, m.group(kind), start
        pos = m.end()


def forbidden(text: str, prefixes: dict[str, str] | None = None) -> str | None:
    """``"SERVICE"`` or ``"LOAD"`` if the engine could read that keyword in ``text``, else None.

    >>> forbidden('SELECT * { ?m ng:mentionCount 1SERVICE <http://h/> { ?s ?p ?o } }')
    'SERVICE'
    >>> forbidden('SELECT * { ?s ?p e:x-service-y, e:a.service, "x"@en-load }') is None
    True
    """
    declared = set(prefixes or ())
    glued: list[tuple[str, str]] = []  # (keyword, what follows it) inside a prefixed name's prefix
    pending: list[tuple] = [(0, -1, (), "", "")]
    seen: set[tuple] = set()
    while pending:
        reading = pending.pop()
        if reading in seen:
            continue
        seen.add(reading)
        if len(seen) > MAX_READINGS:
            raise QueryError("the query has too many '<' right after a value inside parentheses to check; "
                             "put a space after '<' where it means 'less than'")
        found = _read(text, *reading, declared, glued, pending)
        if found:
            return found
    for keyword, rest in glued:
        if rest in declared:
            return keyword
    return None


def _read(text: str, start: int, no_iri_at: int, brackets: tuple, previous: str, previous_text: str,
          declared: set, glued: list, pending: list) -> str | None:
    """One reading of ``text`` from ``start`` (in the state given); queues the other reading of each ambiguous ``<``."""
    brackets = list(brackets)
    for kind, value, at in tokens(text, start, no_iri_at):
        if kind == "comment":
            continue
        if kind == "word":
            m = _KEYWORD.search(value)
            if m:
                return m.group().upper()
        elif kind == "pname":
            label = value[:value.index(":")]
            if previous == "word" and previous_text.lower() == "prefix":
                declared.add(label)
            for m in _PREFIX_WORD.finditer(label):
                declared.add(label[m.end():])
            for m in _KEYWORD.finditer(label):
                rest = label[m.end():]
                glued.append((m.group().upper(), rest))
                silent = _SILENT.match(rest)
                if silent:
                    glued.append((m.group().upper(), rest[silent.end():]))
        elif kind == "iri" and at != no_iri_at:
            if brackets and brackets[-1] == "(" and (previous in _VALUES or previous_text in (")", "]")):
                pending.append((at, at, tuple(brackets), previous, previous_text))
        elif kind == "other":
            if value in "({[":
                brackets.append(value)
                if len(brackets) > MAX_DEPTH:
                    raise QueryError(f"the query nests brackets more than {MAX_DEPTH} deep, which newsgraph does not run; "
                                     "flatten it")
            elif value in ")}]" and brackets:
                brackets.pop()
        previous, previous_text = kind, value
    return None


def first_keyword(text: str) -> str | None:
    """The first keyword after the prologue (PREFIX, BASE, VERSION declarations), upper-cased."""
    skip = 0
    for kind, value, _ in tokens(text):
        if kind == "comment":
            continue
        if skip:
            skip -= 1
            continue
        if kind != "word":
            return None
        word = value.upper()
        if word == "PREFIX":
            skip = 2
        elif word in ("BASE", "VERSION"):
            skip = 1
        else:
            return word
    return None


def check(text: str, what: str, prefixes: dict[str, str] | None = None) -> None:
    """Raise :class:`QueryError` if ``text`` (a query or an update, ``what``) could reach the network."""
    keyword = forbidden(text, prefixes)
    if keyword:
        raise QueryError(f"{keyword} is not allowed: newsgraph {what} never reach other servers or files")


# ---------------------------------------------------------------- the second wall

_ARCH = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}  # audit arch, socket(2) number
_IO_URING_SETUP = 425  # the same on both; io_uring can open sockets without socket(2)
_X32 = 0x40000000
_INTERNET = (2, 10, 17)  # AF_INET, AF_INET6, AF_PACKET


def _filter(arch: int, socket_nr: int, x86: bool) -> bytes:
    """A seccomp BPF program: Internet sockets and io_uring get EACCES, other calls are allowed."""
    import errno
    import struct

    ld, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JSET|K, BPF_RET|K
    allow, deny = 0x7FFF0000, 0x00050000 | errno.EACCES
    program: list[tuple] = [(ld, 4), (jeq, arch, 0, "deny"), (ld, 0)]
    if x86:
        program.append((jset, _X32, "deny", 0))
    program += [(jeq, _IO_URING_SETUP, "deny", 0), (jeq, socket_nr, 0, "allow"), (ld, 16)]
    program += [(jeq, family, "deny", 0) for family in _INTERNET]
    program += [("allow",), (ret, allow), ("deny",), (ret, deny)]
    labels, at = {}, 0
    for ins in program:
        if len(ins) == 1:
            labels[ins[0]] = at
        else:
            at += 1
    out, at = [], 0
    for ins in program:
        if len(ins) == 1:
            continue
        code, k, *jumps = ins
        jt, jf = ((labels[j] - at - 1 if isinstance(j, str) else j) for j in (jumps or (0, 0)))
        out.append(struct.pack("HBBI", code, jt, jf, k))
        at += 1
    return b"".join(out)


def no_network() -> bool:
    """Make the calling thread, and the threads it starts, unable to open an Internet socket.

    Returns False where the kernel or platform does not allow it (then only the guard holds).
    """
    import ctypes
    import platform
    import sys

    machine = platform.machine()
    if not sys.platform.startswith("linux") or machine not in _ARCH:
        return False
    arch, socket_nr = _ARCH[machine]
    program = _filter(arch, socket_nr, machine == "x86_64")

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(program, len(program))
        prog = SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: needed to filter without privileges
            return False
        return libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
    except (OSError, AttributeError):
        return False
