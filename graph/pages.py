"""The web pages' own files, shipped in ``graph/web/``: read, filled in and hashed for CSP.

A page is an HTML template whose fields are written ``@@NAME@@``; the
network's script and both pages' style sheets sit beside it. They are package
data, read through :mod:`importlib.resources`, so they work from a wheel as
from the repository.

>>> fill("<h1>@@NAME@@</h1>", {"NAME": "store"})
'<h1>store</h1>'
"""
from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from .errors import NewsgraphError

_FIELD = re.compile(r"@@([A-Z]+)@@")


@cache
def asset(name: str) -> str:
    """The text of the file ``name`` in ``graph/web/`` (cached)."""
    try:
        return resources.files(__package__).joinpath("web", name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise NewsgraphError(f"cannot read the page file web/{name}: {e}; reinstall newsgraph") from e


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``@@NAME@@`` replaced by ``values[NAME]``.

    One pass, so text put in for one field is never read as another field.
    Values go in as they are: escaping them is the caller's job.
    """
    return _FIELD.sub(lambda m: values[m.group(1)], template)


def csp_hash(text: str) -> str:
    """The CSP source (``'sha256-…'``) that lets exactly this inline script or style run."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
