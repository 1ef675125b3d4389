"""Network checks shared by the server and the remote store."""
from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface.

    ``host`` is a name or an IP address as a URL or a listening address
    carries it: IPv6 with or without brackets, IPv4 also IPv4-mapped
    (``::ffff:127.0.0.1``). Of names, only ``localhost`` counts; any other
    could resolve anywhere.

    >>> is_loopback("127.0.0.2"), is_loopback("[::1]"), is_loopback("example.org")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    # Python before 3.13 does not count an IPv4-mapped IPv6 address (::ffff:127.0.0.1) as loopback.
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)
