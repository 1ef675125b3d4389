"""Defaults of ``newsgraph serve`` that the command line needs without importing the server."""
from __future__ import annotations

# Megabytes a query worker may take beyond what it holds once its graph is open (and its query thread's stack):
# a worker idles at 0.6-0.9 GB of address space over a store (RocksDB's reservations, malloc arenas), little
# of it resident, so a cap counted from zero would have to guess that baseline. The address space is capped
# (RLIMIT_AS), so memory a query maps but never touches counts too.
DEFAULT_MEMORY = 2048
MIN_MEMORY = 64
