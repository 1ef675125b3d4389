"""Text preparation before parsing: same length, better parses."""
from __future__ import annotations

import pytest

from newsgraph.nlp import model_name, prepare, sentence_case_headline
from newsgraph.errors import ModelError


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
