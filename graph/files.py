"""Writing files whole: a reader sees the old file or the new one, never half of either."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import StoreError


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Create or replace ``path`` with what ``write`` writes to the binary file it is given.

    The bytes go to a temporary file beside ``path``, renamed over it once
    complete; if ``write`` fails, ``path`` is left as it was. The new file gets
    the permissions the umask gives any new file. Raises :class:`StoreError`
    when the folder cannot be written.

    >>> atomic_write(Path("graph.html"), lambda f: f.write(page.encode("utf-8")))
    """
    path = path.absolute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise StoreError(f"cannot write '{path}': {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; an export should not be
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise StoreError(f"cannot write '{path}': {e.strerror or e}") from None
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
