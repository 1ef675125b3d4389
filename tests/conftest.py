"""Shared fixtures: the CLI driven through CliRunner, sample graphs, a canary HTTP server (helpers.py holds the code).

Two kinds of graph are used. ``handmade`` is built from records written in helpers.py
(no model), so tests of query and export can count exact nodes and edges while
the extraction rules change. ``sample_ttl``/``sample_store`` come from the
real model on ``tests/data/articles/``; tests on them check plumbing, not
extraction quality.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import hypothesis
import pytest

from helpers import (
    ARTICLES,
    CHROMIUM,
    SEED_VARIABLE,
    Cli,
    canary_server,
    handmade_documents,
    run_seed,
    start,
    stop,
    write_documents,
)


def pytest_report_header(config) -> str:
    return f"random seed {run_seed()}: rerun with {SEED_VARIABLE}={run_seed()}"


# A test that asks for one of these fixtures carries the marker, whether or not it says so.
FIXTURE_MARKERS = {"nlp": "model", "extractor": "model", "sample_ttl": "model", "sample_store": "model",
                   "sample_store_master": "model", "browser": "browser"}


def pytest_collection_modifyitems(items) -> None:
    """Mark the tests that use the model or Chromium; seed Hypothesis from this run's seed.

    Hypothesis then replays its examples when NEWSGRAPH_TEST_SEED is set to the seed in the header.
    """
    for item in items:
        for name in sorted({FIXTURE_MARKERS[f] for f in getattr(item, "fixturenames", ()) if f in FIXTURE_MARKERS}):
            item.add_marker(name)
        test = getattr(item, "obj", None)
        if getattr(test, "is_hypothesis_test", False) and getattr(test, "_hypothesis_internal_use_seed", None) is None:
            hypothesis.seed(run_seed())(test)


@pytest.fixture
def cli() -> Cli:
    return Cli()


# ------------------------------------------------------------ handmade graph


@pytest.fixture(scope="session")
def handmade_ttl(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("handmade") / "graph.ttl"
    write_documents(str(path), handmade_documents())
    return path


@pytest.fixture
def handmade_store(tmp_path) -> Path:
    """A fresh store per test: some tests try to change it."""
    path = tmp_path / "store"
    write_documents(str(path), handmade_documents())
    return path


# ------------------------------------------------------------ model-built graphs


@pytest.fixture(scope="session")
def sample_ttl(tmp_path_factory) -> Path:
    """Every article under tests/data/articles/ built with the real model."""
    path = tmp_path_factory.mktemp("sample") / "graph.ttl"
    Cli().ok("build", ARTICLES, "-o", path, "-q")
    return path


@pytest.fixture(scope="session")
def sample_store_master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "store"
    Cli().ok("build", ARTICLES, "-o", path, "-q")
    return path


@pytest.fixture
def sample_store(sample_store_master, tmp_path) -> Path:
    """A private copy of the model-built store."""
    path = tmp_path / "store"
    shutil.copytree(sample_store_master, path, ignore=shutil.ignore_patterns("LOCK"))
    return path


# ------------------------------------------------------------ canary server


@pytest.fixture
def canary():
    """A canary server for one test: nothing should ever reach it."""
    with canary_server() as c:
        yield c


# ------------------------------------------------------------ headless Chromium

@pytest.fixture(scope="module")
def browser():
    """The system Chromium under Playwright; a test that asks for it skips when either is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium is not installed (no {CHROMIUM})")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def nlp():
    """The English model, loaded once for every test that parses."""
    from newsgraph.nlp import load

    return load()


@pytest.fixture(scope="session")
def extractor(nlp):
    from newsgraph.extract import Extractor

    return Extractor(nlp)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A read-only ``newsgraph serve`` over the handmade graph, for the serve and query-endpoint paths."""
    path = tmp_path_factory.mktemp("served") / "handmade.nq"
    write_documents(str(path), handmade_documents())
    endpoint = start(path)
    yield endpoint
    stop(endpoint)
