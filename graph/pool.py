"""The query workers of ``newsgraph serve``: a pool of killable processes, in two lanes.

pyoxigraph cannot cancel a running query, so a query over its time limit is stopped by killing the
process it runs in, which is replaced. :class:`Pool` keeps the workers (each a fresh interpreter running
:func:`newsgraph.jobs.worker_main`), sends each job to one, and answers within the job's time limit
whatever the worker does; its two lanes keep runaway queries from starving the quick ones.
"""
from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from .errors import QueryError, StoreError
from .jobs import NO_MEMORY, RETIRE, Job, QueryJob, Reply, Source
from .limits import DEFAULT_MEMORY

START_TIMEOUT = 600.0  # seconds a worker may take to load its graph


class _Overtime(Exception):
    """A worker has not answered within the time it was given."""


class _OutOfMemory(Exception):
    """A worker aborted past its address-space cap."""


class _Worker:
    """One child process holding the graph; it answers jobs one at a time over a socket pair."""

    def __init__(self, source: Source, memory: int):
        ours, theirs = socket.socketpair()
        package_parent = str(Path(__file__).parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
        # A fresh interpreter, not multiprocessing's fork (unsafe in a threaded server) or spawn
        # (which would re-run the main script of a console entry point).
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from newsgraph.jobs import worker_main; worker_main(int(sys.argv[1]))",
             str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send((source, memory))
        self.ready = False

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait for the worker to have opened its graph; _Overtime if it has not within ``timeout``."""
        if self.ready:
            return
        if not self.conn.poll(max(timeout, 0)):
            raise _Overtime
        try:
            status, message = self.conn.recv()
        except (EOFError, OSError):
            raise StoreError("the query worker stopped while opening the graph") from None
        if status != "ready":
            raise StoreError(message)
        self.ready = True

    def send(self, job: Job) -> None:
        self.conn.send(job)

    def receive(self, timeout: float) -> Reply:
        """The answer to the job sent; _Overtime if it takes longer than ``timeout``, and the job runs on."""
        if not self.conn.poll(max(timeout, 0)):
            raise _Overtime
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            # Past its address-space cap, Oxigraph's allocator aborts the process (Rust's alloc error handler)
            if self.process.wait() == -6:  # SIGABRT
                raise _OutOfMemory from None
            raise

    def lower_priority(self) -> None:
        try:  # raising another process's niceness needs no privilege; lowering it again would
            os.setpriority(os.PRIO_PROCESS, self.process.pid, SLOW_NICENESS)
        except OSError:
            pass

    def kill(self, wait: bool = True) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.conn.close()
        if wait:
            self.process.wait()
        else:  # a process at the slow lane's priority may take its time to exit: answer first, reap it after
            threading.Thread(target=self.process.wait, daemon=True).start()


# A query still running after this many seconds is slow: it leaves the quick lane (see Pool).
SLOW_AFTER = 0.2
SLOW_NICENESS = 19  # the slow lane's CPU priority: it runs on what the quick lane leaves
REMEMBERED = 4096  # slow queries remembered, the oldest forgotten first


class Pool:
    """Worker processes for queries, in two lanes, so that runaway queries cannot starve the quick ones.

    Every query starts in the quick lane, ``size`` workers at normal CPU priority. One still running after
    SLOW_AFTER is slow: its worker drops to the lowest CPU priority and leaves the quick lane, where a fresh
    worker takes its place, and the query is remembered, so that when it is asked again it goes straight to
    the slow lane. That lane runs at most ``size`` queries at once, on workers started when first needed and
    kept at the low priority; a query that turns slow while it is full is stopped and waits for a place in it.
    After the first slow query a spare worker is kept open, so a worker leaving the quick lane is replaced at once.
    A job's time limit counts from when it was asked, waiting included: at its limit it is answered, whatever
    it was doing; a query over it costs its worker, which is replaced. Updates have one lane, the one writer.
    """

    def __init__(self, source: Source, size: int, memory: int = DEFAULT_MEMORY, lanes: bool = True):
        self.source = source
        self.size = size
        self.memory = memory
        self.lanes = lanes
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._quick: queue.Queue[_Worker] = queue.Queue()
        self._slow: queue.Queue[_Worker | None] = queue.Queue()  # a None is a place with no worker started yet
        self._spares: queue.Queue[_Worker] = queue.Queue()
        self._slow_queries: dict[tuple, None] = {}  # insertion-ordered: the oldest is forgotten first
        started = [self._start() for _ in range(size)]
        try:
            for w in started:
                w.wait_ready()  # a graph that cannot be opened is reported before the server listens
        except _Overtime:
            self.close()
            raise StoreError(f"the query worker did not open the graph within {START_TIMEOUT:g} s") from None
        except BaseException:
            self.close()
            raise
        for w in started:
            self._quick.put(w)
        for _ in range(size if lanes else 0):
            self._slow.put(None)

    def _start(self, slow: bool = False) -> _Worker:
        w = _Worker(self.source, self.memory)
        if slow:
            w.lower_priority()
        with self._lock:
            self._all.add(w)
        return w

    def _spare(self) -> _Worker:
        """A worker for the quick lane in place of one that left it: the spare, already open, if there is one.
        The first slow query starts the spare; from then on there is always one ready or opening."""
        try:
            w = self._spares.get_nowait()
        except queue.Empty:
            w = self._start()
        self._spares.put(self._start())
        return w

    def _drop(self, w: _Worker) -> None:
        w.kill(wait=False)
        with self._lock:
            self._all.discard(w)

    def ask(self, job: Job, timeout: float) -> Reply:
        """Run one job; raises QueryError when it runs out of time, StoreError when its worker fails."""
        deadline = time.monotonic() + timeout
        key = job.key if self.lanes and isinstance(job, QueryJob) else None
        if key is not None and key in self._slow_queries:
            return self._ask_slow(job, key, deadline, timeout)
        w = self._take(self._quick, deadline, timeout)
        lane = self._quick
        try:
            w.send(job)
            try:
                reply = w.receive(min(SLOW_AFTER, deadline - time.monotonic()) if key else deadline - time.monotonic())
            except _Overtime:
                if key is None or time.monotonic() >= deadline:
                    raise
                # Slow: off the quick lane, which gets a fresh worker; on in the slow lane if it has a place.
                self._remember(key)
                self._quick.put(self._spare())
                lane = None
                w.lower_priority()
                try:
                    place = self._slow.get_nowait()
                except queue.Empty:
                    self._drop(w)
                    w = None
                    return self._ask_slow(job, key, deadline, timeout)
                if place is not None:
                    self._drop(place)  # the slow lane keeps this worker, already at its priority, instead
                lane = self._slow
                reply = w.receive(deadline - time.monotonic())
            return self._checked(w, reply)
        except BaseException as e:
            w = self._failed(w, e, timeout, lane)
            raise self._error(e, timeout) from None
        finally:
            if lane is not None:
                lane.put(w)

    def _ask_slow(self, job: Job, key: tuple, deadline: float, timeout: float) -> Reply:
        w = self._take(self._slow, deadline, timeout)
        try:
            if w is None:
                w = self._start(slow=True)
            w.wait_ready(deadline - time.monotonic())
            w.send(job)
            started = time.monotonic()
            reply = self._checked(w, w.receive(deadline - started))
            if time.monotonic() - started < SLOW_AFTER:  # quick now (a warm cache, a smaller graph): forget it
                self._slow_queries.pop(key, None)
            return reply
        except BaseException as e:
            w = self._failed(w, e, timeout, self._slow)
            raise self._error(e, timeout) from None
        finally:
            self._slow.put(w)

    def _take(self, lane: queue.Queue, deadline: float, timeout: float):
        try:
            w = lane.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise QueryError(f"stopped after {timeout:g} s, the server's time limit, "
                             "waiting for a free worker: the server is busy") from None
        if w is not None and not w.ready:  # a replacement still opening the graph
            try:
                w.wait_ready(deadline - time.monotonic())
            except BaseException as e:
                if not isinstance(e, _Overtime):
                    w = self._failed(w, e, timeout, lane)
                lane.put(w)
                raise self._error(e, timeout) from None
        return w

    def _checked(self, w: _Worker, reply: Reply) -> Reply:
        if reply[3].get(RETIRE):  # the worker ran out of memory in Python: its heap may be in pieces
            raise _Retire(reply[:3] + ({k: v for k, v in reply[3].items() if k != RETIRE},))
        return reply

    def _failed(self, w: _Worker | None, e: BaseException, timeout: float, lane) -> _Worker | None:
        """After a job failed on ``w``: the worker its lane goes on with (a fresh one, if ``w`` may be broken)."""
        if w is None or not isinstance(e, (_Overtime, _OutOfMemory, _Retire, StoreError, EOFError, OSError)):
            return w
        self._drop(w)
        if lane is self._slow:
            return None  # started when the slow lane next needs it
        return self._start()

    def _error(self, e: BaseException, timeout: float) -> BaseException:
        if isinstance(e, _Retire):
            return Answered(e.reply)
        if isinstance(e, _Overtime):
            return QueryError(f"stopped after {timeout:g} s, the server's time limit")
        if isinstance(e, _OutOfMemory):
            return StoreError(NO_MEMORY.format(self.memory) + "; its worker has been restarted")
        if isinstance(e, (EOFError, OSError)):
            return StoreError("the query worker stopped unexpectedly (out of memory?); it has been restarted")
        return e

    def _remember(self, key: tuple) -> None:
        self._slow_queries[key] = None
        while len(self._slow_queries) > REMEMBERED:
            try:
                del self._slow_queries[next(iter(self._slow_queries))]
            except (StopIteration, KeyError, RuntimeError):  # another thread got there first
                break

    def close(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), set()
        for w in workers:
            w.kill()


class _Retire(Exception):
    """A worker answered, but must be replaced: ``reply`` is its answer."""

    def __init__(self, reply: Reply):
        self.reply = reply


class Answered(Exception):
    """Raised by :meth:`Pool.ask` with the answer of a worker that was replaced after giving it: send ``reply`` on."""

    def __init__(self, reply: Reply):
        self.reply = reply

