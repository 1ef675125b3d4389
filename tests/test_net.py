"""Which hosts are this machine's loopback: the one check the server and the remote store share."""
from __future__ import annotations

import pytest

from newsgraph.net import is_loopback


@pytest.mark.parametrize("host", ["localhost", "LocalHost", "127.0.0.1", "127.8.9.10", "::1", "[::1]",
                                  "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])
def test_loopback(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::", "[::]", "10.0.0.5", "192.168.1.1", "example.org",
                                  "localhost.example.org", "127.0.0.1.example.org", "[127.0.0.1", "2001:db8::1",
                                  "[2001:db8::1]", "1.2.3.4.5"])
def test_not_loopback(host):
    assert not is_loopback(host)
