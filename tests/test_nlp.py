"""Text preparation before parsing: same length, better parses."""
from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings, strategies as st

from newsgraph.errors import ModelError
from newsgraph.nlp import model_name, prepare, sentence_case_headline


@pytest.mark.parametrize("text", [
    "Macron Meets Scholz in Berlin. French President Emmanuel Macron met Olaf Scholz on Monday.",
    "Libya: The envoy said the talks would continue.",
    "KABUL (Reuters) - The government said on Monday ...",
    "!?.,;:" * 3000,
    "x" * 5000,
    "",
])
def test_prepare_keeps_the_length(text):
    assert len(prepare(text)) == len(text)


def test_title_case_headline_keeps_the_names_the_body_capitalises():
    text = "Macron Meets Scholz, Warns of Crisis. French President Emmanuel Macron met Olaf Scholz and warned of a crisis."
    head = sentence_case_headline(text).split(".")[0]
    assert head == "Macron meets Scholz, warns of crisis"


def test_sentence_case_text_is_left_alone():
    text = "Ivan Sokolov arrived in Minsk on Monday. He met the president."
    assert sentence_case_headline(text) == text
    assert sentence_case_headline("Only A Headline Here") == "Only A Headline Here"  # no body to learn from


def test_datelines_end_before_the_first_sentence():
    assert prepare("Libya: The envoy said").startswith("Libya. The")
    assert prepare("KABUL (Reuters) - The government").startswith("KABUL (Reuters) . The")
    assert prepare("He said: The plan") == "He said: The plan"  # a colon inside a sentence stays


def test_symbol_runs_are_blanked_for_the_tokenizer():
    text = "Before " + "!?" * 100 + " after"
    assert prepare(text) == "Before " + " " * 200 + " after"


def test_an_unknown_model_is_a_clear_error():
    from newsgraph.nlp import load

    assert model_name("some_model") == "some_model"
    with pytest.raises(ModelError, match="cannot load spaCy model 'no_such_model_xyz'"):
        load("no_such_model_xyz")


@pytest.mark.model
def test_a_title_line_without_a_full_stop_is_its_own_sentence():
    from newsgraph.nlp import load

    nlp = load()
    doc = nlp(prepare("Front seizes port as envoy meets leader\nThe envoy met the commander on Tuesday."))
    assert [s.text.strip() for s in doc.sents][:2] == ["Front seizes port as envoy meets leader",
                                                       "The envoy met the commander on Tuesday."]
    wrapped = nlp(prepare("The envoy said the commander had agreed to\nmeet him again next week. Then she left."))
    assert len(list(wrapped.sents)) == 2  # a hard-wrapped line does not end its sentence


# The dateline patterns before they were made linear: the reference prepare() must still agree with.
_OLD_COLON = re.compile(r"(?m)^(\s*[A-Z][\w'’.-]*(?:,? [A-Z][\w'’.-]*){0,3}):(?= [A-Z\"“])")
_OLD_DASH = re.compile(
    r"(?m)((?:^|(?<=\. )|(?<=: ))\s*[A-Z0-9][\w'’.,/]*(?: [A-Z0-9][\w'’.,/]*){0,3}(?: ?\([\w .'’/-]{2,30}\))? ?)([-–—]{1,2})(?= [A-Z\"“])"
)


def _old_datelines(text: str) -> str:
    text = _OLD_COLON.sub(lambda m: m.group(1) + ".", text)
    return _OLD_DASH.sub(lambda m: m.group(1) + "." + " " * (len(m.group(2)) - 1), text)


def _new_datelines(text: str) -> str:
    from newsgraph import nlp

    text = nlp._DATELINE_COLON.sub(lambda m: m.group(1) + ".", text)
    return nlp._DATELINE_DASH.sub(lambda m: m.group(1) + "." + " " * (len(m.group(2)) - 1), text)


@pytest.mark.parametrize("text", [
    "Libya: The envoy said",
    "\n\n  \nLibya: The envoy said",
    "He left. \n\nKABUL (Reuters) - The government said",
    "It ended: \r\n\r\nAFP - The army\r\nBAGHDAD: The UN",
    "\u2028  Sep 04 (PID)- President Arif Alvi",
    "Mr. \n \n  ROME — The pope",
])
def test_datelines_are_found_as_before_across_blank_lines(text):
    assert _new_datelines(text) == _old_datelines(text)
    assert _new_datelines(text) != text  # each of these has a dateline to end


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["\n", "\r\n", " ", "\t", "\u2028", "\x0b", ". ", ": ", "Libya", "KABUL", "(Reuters)",
                                 "AFP", "-", "—", " The", " UN", "x", ",", "7", "'s", '"A']), max_size=40))
def test_datelines_agree_with_the_quadratic_patterns(pieces):
    text = "".join(pieces)
    assert _new_datelines(text) == _old_datelines(text)


def test_the_samples_prepare_as_before():
    from pathlib import Path

    texts = [p.read_text(encoding="utf-8") for p in sorted(Path(__file__).parent.parent.joinpath("samples").rglob("*.txt"))]
    assert texts
    for text in texts:
        assert _new_datelines(text) == _old_datelines(text)


@pytest.mark.parametrize("unit", ["\n", "\r\n", " ", "\n \n", "\t\n"])
def test_prepare_is_linear_on_a_megabyte_of_blank_lines(unit):
    text = "Libya: The envoy said.\n" + unit * (1_000_000 // len(unit)) + "KABUL (Reuters) - The army left."
    started = time.perf_counter()
    out = prepare(text)
    assert time.perf_counter() - started < 2.0  # quadratic took minutes on 100 KB
    assert len(out) == len(text)
    assert out.startswith("Libya. The") and out.endswith("KABUL (Reuters) . The army left.")
