"""Batches of work in worker processes that can be stopped: a local pool, or a Dask cluster.

The pipeline hands :func:`run_local` or :func:`run_dask` a *job* and a
stream of batches; each yields ``(item, outcome)`` for every item, in the
order they finish, where the outcome is the job's result or a
:class:`Failed` with a reason. Nothing here knows what the items are.

A job is a picklable object with two methods: ``setup()``, run once per
worker (it loads the model), returning the worker's state, and
``run(state, items, emit)``, which calls ``emit("parsed")`` once the batch
is parsed and ``emit("done", index, outcome)`` for each item.

Local workers are started by a fork server that has imported
:mod:`newsgraph.preload` (so they start with the default model loaded) and
they live while the pool does. A worker that goes past the time limit, or
dies, is killed and replaced: in a batch of several items, the items not
yet done are tried again one by one, so only an item that is too slow (or
kills its worker) on its own is given up, as a :class:`Failed`.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from multiprocessing.connection import Connection, wait
from typing import Any

from .errors import NewsgraphError, WorkerError

PRELOAD = "newsgraph.preload"
_PREFETCH = 2  # batches sent to a worker before it has finished the first: it never waits for the next
# Items a worker handles before a fresh one takes over: spaCy's string store and Python's heap grow
# with every new word a worker sees, and a fork costs milliseconds.
RECYCLE_ITEMS = 2_000


@dataclass(frozen=True)
class Failed:
    """An item the job gave up on, or that was given up on."""

    reason: str
    timed_out: bool = False  # given up for taking longer than the time limit


# ------------------------------------------------------------------ worker side


def _serve(job, inbox: Connection, outbox: Connection) -> None:
    """A worker's life: set up once, then run batches until told to stop or the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    todo: queue.SimpleQueue = queue.SimpleQueue()

    def pump() -> None:
        # Reading the inbox all the time means the parent never blocks sending,
        # and a parent that died (even by SIGKILL) ends the worker at once.
        try:
            while True:
                todo.put(inbox.recv())
        except (EOFError, OSError):
            os._exit(0)

    threading.Thread(target=pump, daemon=True).start()
    try:
        state = job.setup()
    except Exception as e:  # noqa: BLE001 (reported to the parent, which raises it)
        outbox.send(("error", str(e) or type(e).__name__))
        return
    outbox.send(("ready",))
    while (message := todo.get()) is not None:
        key, items = message
        job.run(state, items, lambda *event: outbox.send((key, *event)))
        outbox.send((key, "end"))


# ------------------------------------------------------------------ parent side


@dataclass
class _Batch:
    key: int
    items: list
    solo: bool  # one item: its time limit counts from the start of parsing it
    done: set

    def pending(self) -> list[tuple[int, Any]]:
        return [(i, item) for i, item in enumerate(self.items) if i not in self.done]


class _Worker:
    def __init__(self, ctx, job):
        inbox_r, self.inbox = ctx.Pipe(duplex=False)
        self.outbox, outbox_w = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_serve, args=(job, inbox_r, outbox_w), daemon=True, name="newsgraph-worker")
        with _main_not_rerun():
            self.proc.start()
        inbox_r.close()
        outbox_w.close()
        self.ready = False
        self.sent = 0  # items sent to it
        self.batches: deque[_Batch] = deque()
        self.deadline = float("inf")
        self.phase = "parsing"
        self.broken = False  # a send found its pipe closed

    def send(self, batch: _Batch, timeout: float) -> None:
        if not self.batches and self.ready:
            self.deadline, self.phase = time.monotonic() + timeout, "parsing"
        self.batches.append(batch)
        self.sent += len(batch.items)
        try:
            self.inbox.send((batch.key, batch.items))
        except OSError:  # it died since the last look (a fatal item): its sentinel says so, and its batches are retried
            self.broken = True

    def stop(self, kill: bool) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.inbox.send(None)
            except OSError:
                pass
        self.proc.join(timeout=None if kill else 5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.inbox.close()
        self.outbox.close()


@contextmanager
def _main_not_rerun():
    """Start a worker without running the parent's ``__main__`` script in it again.

    multiprocessing runs a script's ``__main__`` in each new process unless
    it is a module run with ``-m``; a script without an ``if __name__ ==
    "__main__"`` guard (some console-script shims) would start a build in
    every worker. Workers need nothing from ``__main__``.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    main.__spec__ = ModuleSpec("__main__", None)  # read as "nothing to import" by multiprocessing.spawn
    try:
        yield
    finally:
        main.__spec__ = None


def _context():
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([PRELOAD])  # only read when the fork server starts, the first time
    return ctx


def run_local(job, batches: Iterable[list], workers: int = 1, timeout: float | None = None,
              describe: Callable[[float], str] = lambda t: f"took longer than {t:g} s",
              recycle: int = RECYCLE_ITEMS) -> Iterator[tuple[Any, Any]]:
    """Run ``job`` on ``batches`` in ``workers`` processes; yields ``(item, outcome)`` as items finish.

    ``timeout`` (seconds) limits parsing a batch and analysing each item; an
    item over it alone is given up with ``Failed(describe(timeout))``. A
    worker is replaced by a fresh one after ``recycle`` items.
    """
    limit = timeout if timeout else float("inf")
    source = iter(batches)
    retries: deque[_Batch] = deque()
    keys = iter(range(1 << 62))
    first = next(source, None)
    if first is None:
        return  # nothing to do: no worker started, no model loaded
    retries.append(_Batch(next(keys), list(first), len(first) == 1, set()))
    ctx = _context()
    pool = [_Worker(ctx, job) for _ in range(workers)]
    exhausted = False

    def next_batch() -> _Batch | None:
        nonlocal exhausted
        if retries:
            return retries.popleft()
        if exhausted:
            return None
        items = next(source, None)
        if items is None:
            exhausted = True
            return None
        items = list(items)
        return _Batch(next(keys), items, len(items) == 1, set())

    def refill(w: _Worker) -> None:
        if w.sent >= recycle and not w.batches:  # a fresh copy of the fork server's: its memory cannot grow
            w.stop(kill=False)
            pool[pool.index(w)] = w = _Worker(ctx, job)
        while (w.ready and not w.broken and w.sent < recycle and len(w.batches) < _PREFETCH
               and (batch := next_batch()) is not None):
            w.send(batch, limit)

    def replace(w: _Worker, culprit: tuple[_Batch, int] | None, reason: str,
                timed_out: bool = False) -> Iterator[tuple[Any, Any]]:
        """Kill ``w``; give up ``culprit`` (or a solo batch), retry the rest of its batches."""
        w.stop(kill=True)
        pool[pool.index(w)] = fresh = _Worker(ctx, job)
        head = w.batches.popleft() if w.batches else None
        if head is not None:
            pending = head.pending()
            if culprit is None and (head.solo or len(pending) == 1):
                culprit = (head, pending[0][0]) if pending else None
            if culprit is not None:
                batch, index = culprit
                batch.done.add(index)
                yield batch.items[index], Failed(reason, timed_out)
                rest = [item for _, item in batch.pending()]
                if rest:
                    retries.appendleft(_Batch(next(keys), rest, len(rest) == 1, set()))
            else:  # too slow or fatal while parsing several items: find out which one, one by one
                retries.extendleft(_Batch(next(keys), [item], True, set()) for _, item in reversed(pending))
        for later in w.batches:  # batches it had not started are not suspects
            retries.append(_Batch(next(keys), later.items, later.solo, set()))
        refill(fresh)

    try:
        while True:
            for w in list(pool):
                refill(w)
            busy = [w for w in pool if w.batches or not w.ready]
            if not busy:
                return
            now = time.monotonic()
            soonest = min(w.deadline for w in busy)
            ready = wait([w.outbox for w in busy] + [w.proc.sentinel for w in busy],
                         timeout=None if soonest == float("inf") else max(0.0, soonest - now))
            for w in list(busy):
                if w.outbox in ready:
                    try:
                        while w.outbox.poll():
                            message = w.outbox.recv()
                            yield from _handle(w, message, limit)
                    except (EOFError, OSError):
                        pass  # it died; its sentinel says so below
                if w.proc.sentinel in ready and not w.proc.is_alive():
                    if not w.ready:
                        raise WorkerError(f"a worker process died while starting (exit code {w.proc.exitcode})")
                    head = w.batches[0] if w.batches else None
                    culprit = (head, head.pending()[0][0]) if head and w.phase == "analysing" and head.pending() else None
                    code = w.proc.exitcode
                    how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                    yield from replace(w, culprit, f"the worker process died ({how}) on it")
                elif time.monotonic() >= w.deadline:
                    head = w.batches[0]
                    culprit = (head, head.pending()[0][0]) if w.phase == "analysing" and head.pending() else None
                    yield from replace(w, culprit, describe(timeout or 0), timed_out=True)
    finally:
        for w in pool:
            w.stop(kill=True)


def _handle(w: _Worker, message: tuple, limit: float) -> Iterator[tuple[Any, Any]]:
    """One message from a worker: progress, an item's outcome, or the end of a batch."""
    if message[0] == "error":
        raise WorkerError(message[1])
    if message[0] == "ready":
        w.ready = True
        if w.batches:
            w.deadline, w.phase = time.monotonic() + limit, "parsing"
        return
    key, event, *rest = message
    head = w.batches[0]
    assert head.key == key, "a worker answers its batches in order"
    now = time.monotonic()
    if event == "parsed":
        w.phase = "analysing"
        if not head.solo:  # one item alone has one time limit for parsing and analysing it
            w.deadline = now + limit
    elif event == "done":
        index, outcome = rest
        head.done.add(index)
        w.deadline = now + limit
        yield head.items[index], outcome
    elif event == "end":
        w.batches.popleft()
        w.deadline, w.phase = (now + limit if w.batches else float("inf")), "parsing"


# ------------------------------------------------------------------ Dask


def run_dask(job, batches: Iterable[list], address: Any, in_flight: int | None = None) -> Iterator[tuple[Any, Any]]:
    """Run ``job`` on a Dask cluster (a scheduler address or a ``Client``); yields ``(item, outcome)``.

    Each worker runs ``job.setup()`` once (the job caches its state per
    process). A batch whose task fails is tried again one item at a time; an
    item whose own task fails is given up. Dask cannot stop a running task,
    so there is no time limit here.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise NewsgraphError("building on Dask needs the distributed package: pip install 'newsgraph[dask]'",
                             setting="dask") from None
    own = not isinstance(address, Client)
    try:
        client = Client(address, timeout=30) if own else address
    except (OSError, TimeoutError) as e:
        raise NewsgraphError(f"cannot reach the Dask scheduler at '{address}': {e}") from None
    try:
        workers = max(1, sum(client.nthreads().values()))
        window = in_flight or 2 * workers
        source = iter(batches)
        done = as_completed()
        batch_of: dict = {}

        def submit(items: list, solo: bool) -> None:
            future = client.submit(_dask_task, job, items, pure=False)
            batch_of[future] = (items, solo)
            done.add(future)

        retries: deque[list] = deque()
        for items in source:
            submit(list(items), False)
            if len(batch_of) >= window:
                break
        while batch_of:
            future = next(done)
            items, solo = batch_of.pop(future)
            try:
                outcomes = future.result()
            except Exception as e:  # noqa: BLE001 (a worker died or the task broke)
                if solo or len(items) == 1:
                    yield items[0], Failed(f"its Dask task failed: {type(e).__name__}: {e}")
                else:
                    retries.extend([item] for item in items)
                outcomes = None
            if outcomes is not None:
                for index, outcome in outcomes:
                    yield items[index], outcome
            while len(batch_of) < window:
                if retries:
                    submit(retries.popleft(), True)
                elif (items := next(source, None)) is not None:
                    submit(list(items), False)
                else:
                    break
    finally:
        if own:
            client.close()


_DASK_STATE: dict = {}


def _dask_task(job, items: Sequence) -> list[tuple[int, Any]]:
    """One batch on a Dask worker; the job's state is set up once per worker process."""
    state = _DASK_STATE.get(job)
    if state is None:
        state = _DASK_STATE[job] = job.setup()
    outcomes: list[tuple[int, Any]] = []
    job.run(state, list(items), lambda event, *rest: outcomes.append(tuple(rest)) if event == "done" else None)
    return outcomes
