"""``newsgraph evaluate`` scores the project's own extraction, and agrees with the kit's scorer."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsgraph.cli import main
from newsgraph.errors import InputError
from newsgraph.evaluate import evaluate, read_gold, score_document

GOLD = Path(__file__).parent / "data" / "gold" / "small.jsonl"
SCORER = Path(__file__).resolve().parents[2] / "shared" / "eval" / "score.py"


def _headline(text: str) -> tuple[float, ...]:
    m = re.search(r"relations P=([\d.]+) R=([\d.]+) F1=([\d.]+) \| entities P=([\d.]+) R=([\d.]+) F1=([\d.]+)", text)
    assert m, text
    return tuple(float(x) for x in m.groups())


@pytest.mark.model
def test_evaluate_counts_hits_misses_optional_and_alternatives():
    ev = evaluate(read_gold(str(GOLD)))
    docs = {d.id: d for d in ev.documents}
    assert (docs["g1"].tp_gold, docs["g1"].gold) == (2, 2)
    assert docs["g2"].tp_gold == 1 and docs["g2"].false_positives == []  # the planned meeting is not a fact
    assert docs["g3"].misses and docs["g3"].system == 0  # the optional meeting is neither hit nor false positive
    # Assad's forces: an accepted alternative subject, neutral; the alliance is not in the gold: a false positive
    assert [fp for fp, _ in docs["g4"].false_positives] == ["democratic party allied-to green party"]
    assert docs["g4"].misses and docs["g4"].tp_sys == 0 and docs["g4"].system == 1


@pytest.mark.model
def test_cli_evaluate_prints_per_relation_and_misses():
    result = CliRunner().invoke(main, ["evaluate", str(GOLD), "-v"])
    assert result.exit_code == 0, result.output
    assert "MISS g3: hezbollah captured minsk" in result.output
    for rel in ("allied-to", "captured", "met-with"):
        assert re.search(rf"^{rel}\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+$", result.output, re.M)
    assert _headline(result.output)


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not SCORER.exists(), reason="the evaluation kit's score.py is not beside this checkout")
def test_agrees_with_the_kit_scorer(tmp_path):
    cli = shutil.which("newsgraph") or f"{sys.executable} -m newsgraph.cli"
    kit = subprocess.run([sys.executable, str(SCORER), str(GOLD), "--cmd", cli + " build {input} -o {output} -q"],
                         capture_output=True, text=True, timeout=600)
    assert kit.returncode == 0, kit.stderr
    ours = CliRunner().invoke(main, ["evaluate", str(GOLD)])
    assert _headline(ours.output) == _headline(kit.stdout)


def test_bad_gold_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "fine"}\n{not json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        read_gold(str(bad))
    result = CliRunner().invoke(main, ["evaluate", str(bad)])
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.output and "Traceback" not in result.output


@pytest.mark.model
def test_relations_the_gold_does_not_annotate_are_not_scored():
    """An ``attacked`` edge is neither a hit nor a false positive: the gold sets annotate three relations only."""
    gold = {"id": "a1", "text": "The Halden Guard shelled Dunmara and seized Port Abrel on Monday.",
            "entities": [{"type": "Organization", "names": ["Halden Guard"]},
                         {"type": "Location", "names": ["Dunmara"]}, {"type": "Location", "names": ["Port Abrel"]}],
            "relations": [{"relation": "captured", "subject": ["Halden Guard"], "object": ["Port Abrel"]}]}
    ev = evaluate([gold])
    doc = ev.documents[0]
    assert (doc.tp_gold, doc.gold, doc.system) == (1, 1, 1)
    assert doc.false_positives == [] and "attacked" not in doc.per_relation


def test_a_gold_entity_split_into_two_nodes_is_reported_as_a_fragment():
    """A user fixing the resolver needs to see which names became several nodes, not just a count."""
    from newsgraph.records import Article, DocumentResult, Entity

    gold = {"id": "s1", "text": "Corvane Holdings said on Monday that Corvane would expand.",
            "entities": [{"type": "Organization", "names": ["Corvane Holdings", "Corvane"]},
                         {"type": "Person", "names": ["Ilse Varga"]}],
            "relations": []}
    split = DocumentResult(Article("s1", gold["text"]), (Entity("Corvane Holdings", "Organization", ()),
                                                         Entity("Corvane", "Organization", ()),
                                                         Entity("Ilse Varga", "Person", ())), ())
    sc = score_document(gold, split)
    assert sc.fragments == 1
    assert sc.split_entities == [("corvane", ["corvane", "corvane holdings"])]
    merged = DocumentResult(Article("s1", gold["text"]), (Entity("Corvane Holdings", "Organization", ("Corvane",)),
                                                          Entity("Ilse Varga", "Person", ())), ())
    sc = score_document(gold, merged)
    assert sc.fragments == 0 and sc.split_entities == []
