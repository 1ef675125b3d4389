"""A builder killed with SIGKILL leaves whole documents only, and building again converges.

The builder runs as a real process with its stderr on a pseudo-terminal, so it
draws its progress line; the test reads it and kills the process at a random
document count (and a random few milliseconds later), reopens the store, and
checks every document graph in it against the quads a crash-free build wrote.
``NEWSGRAPH_SLOW=1`` runs the 50-kill version. The kills are drawn from a printed seed;
``NEWSGRAPH_TEST_SEED=N`` reruns them.
"""
from __future__ import annotations

import os
import pty
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from helpers import random_seed

pytestmark = pytest.mark.model

PEOPLE = ["Tomas Halvik", "Idris Maren", "Lena Castell", "Anika Varga", "Rolf Denner", "Piet Oranje"]
PLACES = ["Corvanne", "Velmora", "Ostrava", "Dravenport", "Brelholm", "Port Selwyn", "Tesk"]
GROUPS = ["Coastal Militia", "Free Corvanne Brigade", "Southern Coast Militia"]
_PROGRESS = re.compile(rb"\r(\d+)/(\d+) articles")


def corpus(folder: Path, n: int) -> Path:
    """``n`` short articles, each with a meeting and a capture, sharing people, groups and places."""
    rng = random.Random(5)
    folder.mkdir()
    for i in range(n):
        a, b = rng.sample(PEOPLE, 2)
        group, place, town = rng.choice(GROUPS), rng.choice(PLACES), rng.choice(PLACES)
        (folder / f"report-{i:03d}.txt").write_text(
            f"{a} met {b} in {town} on Friday, officials said. The {group} captured {place} after a week of "
            f"fighting. {b} said the {group} was allied to {a}. Residents of {town} reported shelling overnight.\n",
            encoding="utf-8")
    return folder


def graphs(store: Path) -> tuple[dict[str, set[ox.Quad]], set[ox.Triple]]:
    """A store's document graphs by name, and its default graph."""
    s = ox.Store(str(store))  # the killed builder held the lock; the kernel let it go
    named: dict[str, set[ox.Quad]] = {}
    default: set[ox.Triple] = set()
    for q in s.quads_for_pattern(None, None, None, None):
        if isinstance(q.graph_name, ox.NamedNode):
            named.setdefault(q.graph_name.value, set()).add(q)
        else:
            default.add(q.triple)
    del s
    return named, default


def build_command(inputs: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "newsgraph.cli", "build", str(inputs), "-o", str(store), "--batch-size", "3"]


def build_and_kill(inputs: Path, store: Path, at: int, rng: random.Random) -> int:
    """Run a build, SIGKILL it once its progress line reaches ``at`` articles; returns the count it showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(build_command(inputs, store), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=slave, start_new_session=True)
    os.close(slave)
    seen, buffer = 0, b""
    deadline = time.monotonic() + 120
    try:
        while seen < at and proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    buffer = (buffer + os.read(master, 4096))[-4096:]
                except OSError:
                    break
                counts = _PROGRESS.findall(buffer)
                if counts:
                    seen = int(counts[-1][0])
        time.sleep(rng.random() * 0.03)  # land anywhere in the next document's write
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        os.close(master)
    return seen


def check_whole(store: Path, reference: dict[str, set[ox.Quad]]) -> int:
    """Every document in the store is complete, and the default graph is their merge; returns how many there are."""
    named, default = graphs(store)
    for name, quads in named.items():
        assert quads == reference[name], f"{name} is torn: {len(quads)} of {len(reference[name])} quads"
    assert default == {q.triple for quads in named.values() for q in quads}
    return len(named)


def kill_and_resume(tmp_path: Path, articles: int, kills: int, seed: int) -> None:
    inputs = corpus(tmp_path / "articles", articles)
    clean = tmp_path / "clean"
    subprocess.run(build_command(inputs, clean), check=True, capture_output=True, timeout=300)
    reference, merged = graphs(clean)
    assert len(reference) == articles

    rng = random.Random(seed)
    store = tmp_path / "store"
    present, partial = 0, []
    for at in sorted(rng.randint(1, articles - 1) for _ in range(kills)):
        build_and_kill(inputs, store, max(at, present + 1), rng)
        if store.exists():
            present = check_whole(store, reference)
            partial.append(present)
    assert any(0 < n < articles for n in partial), f"seed {seed}: no kill landed inside the build: {partial}"
    print(f"documents present after each kill: {partial}")
    run = subprocess.run(build_command(inputs, store), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"seed {seed}: {run.stderr}"
    rest = articles - present
    assert f"{rest} article{'s' if rest != 1 else ''} added, {present} unchanged, 0 skipped" in run.stderr, f"seed {seed}: {run.stderr}"
    named, default = graphs(store)
    assert named == reference and default == merged, f"seed {seed}: the rerun did not converge"
    assert f"{len(merged)} triples in {store}" in run.stderr


@pytest.mark.slow
def test_sigkill_leaves_whole_documents_and_a_rerun_converges(tmp_path):
    kill_and_resume(tmp_path, articles=40, kills=3, seed=random_seed())


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("NEWSGRAPH_SLOW"), reason="the 50-kill run is slow; set NEWSGRAPH_SLOW=1")
def test_fifty_sigkills(tmp_path):
    kill_and_resume(tmp_path, articles=300, kills=50, seed=random_seed(50))


def test_a_second_builder_is_refused_while_the_first_runs(tmp_path):
    inputs = corpus(tmp_path / "articles", 30)
    store = tmp_path / "store"
    first = subprocess.Popen(build_command(inputs, store), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (store / "LOCK").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        second = subprocess.run(build_command(inputs, store), capture_output=True, text=True, timeout=60)
        still_running = first.poll() is None
    finally:
        _, err = first.communicate(timeout=120)
    assert still_running, "the first build ended before the second tried: make its corpus bigger"
    assert second.returncode == 1
    assert second.stderr.splitlines() == [f"Error: store '{store}' is in use by another process"]
    assert first.returncode == 0, err
    assert "30 articles added" in err
