"""atomic_write: a file is replaced whole or not at all."""
from __future__ import annotations

import os
import stat

import pytest

from newsgraph.errors import StoreError
from newsgraph.files import atomic_write


def test_writes_a_new_file_in_a_new_folder_with_the_umasks_permissions(tmp_path):
    target = tmp_path / "a" / "b" / "out.html"
    old = os.umask(0o027)
    try:
        atomic_write(target, lambda f: f.write(b"page"))
    finally:
        os.umask(old)
    assert target.read_bytes() == b"page"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(target.parent) == ["out.html"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "out.ttl"
    target.write_bytes(b"old")

    def half(f):
        f.write(b"half")
        raise RuntimeError("serialiser broke")

    with pytest.raises(RuntimeError):
        atomic_write(target, half)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.ttl"]


def test_an_unwritable_place_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot write"):
        atomic_write(blocker / "out.ttl", lambda f: f.write(b"x"))
