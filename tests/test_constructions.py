"""The construction matrix: one sentence per (relation, construction, form), run through the real model.

``tests/data/constructions.tsv`` lists, for met-with, allied-to, captured and
attacked, the syntactic constructions news copy uses to state a relation
(active, passive, nominalisations, relative clauses, headlines, nationality
actors, ...) in a positive form and in non-factual forms (negated, planned,
failed, denied, hypothetical, conditional), plus trap sentences that look like
a relation but state none. Each row says which facts a careful annotator
following ``../shared/eval/GUIDELINES.md`` asserts, and for non-factual forms
which relation the text talks about and with which status.

A row passes when

1. the document's factual relations among the four properties, as
   (subject label, property, object label) with symmetric ones in either
   order and labels compared case-insensitively, are exactly the expected set;
2. every ``reported`` entry is among all the document's relations with its
   status (``:negative`` is the polarity, any other status the modality).

The tests at the end check the matrix itself without the model: its size,
its coverage of constructions and trigger words, and that its invented names
do not collide with the evaluation set.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

MATRIX = Path(__file__).parent / "data" / "constructions.tsv"
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"

COLUMNS = ["relation", "construction", "form", "sentence", "expected", "reported"]
PROPS = {"met-with": "metWith", "allied-to": "alliedTo", "captured": "captured", "attacked": "attacked"}
SYMMETRIC = {"metWith", "alliedTo"}
CONSTRUCTIONS = [
    "active", "passive-agent", "passive-agentless", "nominal-of-by", "nominal-with", "nominal-between",
    "nominal-possessive", "nominal-compound", "reciprocal", "coordination-subject", "coordination-object",
    "coordinated-verbs", "relative", "reduced-relative", "participle", "apposition", "copula", "hyphenated",
    "light-verb", "control", "raising", "headline", "nationality-actor", "titles", "adverbial", "pronoun", "dateline",
    "trap",
]
FORMS = ["positive", "negated", "planned", "failed", "denied", "hypothetical", "conditional", "claimed"]
STATUSES = {"negative", "planned", "attempted", "denied", "hypothetical", "alleged"}

# Crude trigger words, by relation: the earliest match in a sentence names the row's trigger.
TRIGGERS = {
    "met-with": [(r"\bmet\b|\bmeet", "meet"), (r"\btalk", "talks"), (r"\bdiscuss", "discuss"), (r"\bbrief", "brief"), (r"\bhost", "host"), (r"\breceiv", "receive"),
                 (r"\bs[ai]t down", "sit down"), (r"\bdin(ner|ed)\b|\blunch", "meal"), (r"\bconferr", "confer"),
                 (r"\bvisit", "visit"), (r"\bsummit", "summit"), (r"\bguest", "guest"), (r"\bwelcom", "welcome")],
    "allied-to": [(r"\balli|\bally", "ally"), (r"\bloyal", "loyal"), (r"\bsid(e|es|ed|ing) with", "side with"),
                  (r"\bjoin(s|ed)? forces", "join forces"), (r"\bcoalition", "coalition"), (r"\baligned", "aligned"),
                  (r"\b(fought|fight|fighting) (alongside|together)|\bside by side", "fight alongside"),
                  (r"\bteam(ed)? up", "team up"), (r"\bpartner", "partner"), (r"\ballegiance", "allegiance")],
    "captured": [(r"\b(re)?captur", "capture"), (r"\bseiz", "seize"), (r"\boverr(an|un)", "overrun"),
                 (r"\barrest", "arrest"), (r"\bkidnap|\babduct", "kidnap"), (r"\bdetain|\bdetention", "detain"), (r"\b(took|take|taken|taking)", "take"),
                 (r"\b(fell|fall|fallen) (to|of)\b", "fall to"), (r"\bcustody", "custody"), (r"\bhands of", "hands of"),
                 (r"\bprisoner|\bhostage", "prisoner"), (r"\bcontrol", "control"), (r"\bh[oe]lds?\b", "hold")],
    "attacked": [(r"\battack", "attack"), (r"\bshell", "shell"), (r"\bbomb", "bomb"), (r"\braid", "raid"),
                 (r"\bambush", "ambush")],
}


@dataclass(frozen=True)
class Entry:
    prop: str
    subject: str
    object: str
    status: str | None = None

    def key(self) -> tuple[str, str, str]:
        return canonical(self.subject, self.prop, self.object)


@dataclass(frozen=True)
class Row:
    line: int
    relation: str
    construction: str
    form: str
    sentence: str
    expected: tuple[Entry, ...]
    reported: tuple[Entry, ...]

    @property
    def text(self) -> str:
        return self.sentence.replace("\\n", "\n")

    @property
    def id(self) -> str:
        return f"{self.line}-{self.relation}-{self.construction}-{self.form}"


def canonical(subject: str, prop: str, obj: str) -> tuple[str, str, str]:
    """Labels lower-cased; a symmetric relation with its two ends in sorted order."""
    s, o = subject.strip().lower(), obj.strip().lower()
    if prop in SYMMETRIC and o < s:
        s, o = o, s
    return s, prop, o


_ENTRY = re.compile(r"^(?:\[(?P<rel>[a-z-]+)\]\s*)?(?P<s>.+?)\s+(?P<op>[=>])\s+(?P<o>.+?)(?:\s+:(?P<status>[a-z]+))?$")


def parse_entries(cell: str, relation: str, line: int, with_status: bool) -> tuple[Entry, ...]:
    if cell.strip() == "-":
        return ()
    entries = []
    for part in cell.split(" ; "):
        m = _ENTRY.match(part.strip())
        if not m:
            raise ValueError(f"line {line}: cannot read {part!r}")
        rel = m["rel"] or relation
        if rel not in PROPS:
            raise ValueError(f"line {line}: unknown relation {rel!r}")
        prop = PROPS[rel]
        if (m["op"] == "=") != (prop in SYMMETRIC):
            raise ValueError(f"line {line}: {rel} takes {'=' if prop in SYMMETRIC else '>'}, not {m['op']!r}")
        if with_status != (m["status"] is not None):
            raise ValueError(f"line {line}: {'reported' if with_status else 'expected'} entry {part!r} "
                             f"{'needs' if with_status else 'takes no'} :status")
        if m["status"] is not None and m["status"] not in STATUSES:
            raise ValueError(f"line {line}: unknown status {m['status']!r}")
        entries.append(Entry(prop, m["s"], m["o"], m["status"]))
    return tuple(entries)


def load_matrix(path: Path = MATRIX) -> list[Row]:
    rows, header = [], None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if header is None:
            header = cells
            assert header == COLUMNS, f"line {n}: header {header!r}"
            continue
        if len(cells) != len(COLUMNS):
            raise ValueError(f"line {n}: {len(cells)} columns, expected {len(COLUMNS)}: {raw!r}")
        relation, construction, form, sentence, expected, reported = (c.strip() for c in cells)
        rows.append(Row(n, relation, construction, form, sentence,
                        parse_entries(expected, relation, n, with_status=False),
                        parse_entries(reported, relation, n, with_status=True)))
    return rows


ROWS = load_matrix()
OPEN = Path(__file__).parent / "data" / "constructions_open.tsv"


def load_open(path: Path = OPEN) -> dict[str, str]:
    """Sentence → cause, for the rows the extractor is known to get wrong."""
    out = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            sentence, cause = raw.split("\t")
            out[sentence] = cause
    return out


KNOWN_OPEN = load_open()


def _param(row: Row):
    cause = KNOWN_OPEN.get(row.sentence)
    marks = [pytest.mark.xfail(strict=True, reason=cause)] if cause else []
    return pytest.param(row, marks=marks, id=row.id)


def trigger_of(row: Row) -> str | None:
    """The trigger word of a row: the relation's earliest trigger pattern in the sentence."""
    text = row.text.lower()
    hits = [(m.start(), name) for pattern, name in TRIGGERS[row.relation] for m in [re.search(pattern, text)] if m]
    return min(hits)[1] if hits else None


# ------------------------------------------------------------------ the matrix, through the real model


def analysed(nlp, extractor, text: str):
    """Factual (subject, property, object) triples among the four properties, and every relation with its status."""
    from newsgraph.nlp import prepare
    from newsgraph.pipeline import analyse
    from newsgraph.records import Article

    result = analyse(nlp(prepare(text)), Article("t", text), extractor)
    props = set(PROPS.values())
    facts = {canonical(f.subject.label, f.relation.prop, f.object.label)
             for f in result.facts if f.relation.factual and f.relation.prop in props}
    everything = {(*canonical(f.subject.label, f.relation.prop, f.object.label), f.relation.polarity, f.relation.modality)
                  for f in result.facts}
    return facts, everything


def has_status(everything, entry: Entry) -> bool:
    key = entry.key()
    for *triple, polarity, modality in everything:
        if tuple(triple) != key:
            continue
        if entry.status == "negative" and polarity == "negative":
            return True
        if entry.status != "negative" and modality == entry.status:
            return True
    return False


def show(triples) -> str:
    return "{" + ", ".join(f"{s} {p} {o}" if len(rest) == 0 else f"{s} {p} {o} ({'/'.join(rest)})"
                           for s, p, o, *rest in sorted(triples)) + "}"


@pytest.mark.model
@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_construction(nlp, extractor, row):
    facts, everything = analysed(nlp, extractor, row.text)
    expected = {e.key() for e in row.expected}
    missing_reports = [e for e in row.reported if not has_status(everything, e)]
    problems = []
    if facts != expected:
        problems.append(f"facts: expected {show(expected)}, got {show(facts)} "
                        f"(missing {show(expected - facts)}, extra {show(facts - expected)})")
    for e in missing_reports:
        problems.append(f"report {e.subject} {e.prop} {e.object} :{e.status} not found")
    assert not problems, f"{row.text!r}\n  " + "\n  ".join(problems) + f"\n  all relations: {show(everything)}"


# ------------------------------------------------------------------ the matrix itself (no model)


def test_matrix_is_well_formed():
    for r in ROWS:
        assert r.relation in PROPS, f"line {r.line}: relation {r.relation!r}"
        assert r.construction in CONSTRUCTIONS, f"line {r.line}: construction {r.construction!r}"
        assert r.form in FORMS, f"line {r.line}: form {r.form!r}"
        assert r.sentence and "\t" not in r.sentence, f"line {r.line}"
        if r.form == "positive":
            assert not r.reported, f"line {r.line}: a positive row reports nothing"
        if r.construction == "headline":
            assert "\\n" in r.sentence, f"line {r.line}: a headline row is a headline line and a body line"
        for e in r.expected + r.reported:
            assert e.subject.lower() != e.object.lower(), f"line {r.line}: {e}"
            assert not e.subject.lower().startswith("the ") and not e.object.lower().startswith("the "), \
                f"line {r.line}: names go without a leading 'the': {e}"
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids))


def test_matrix_size_and_coverage():
    assert len(ROWS) >= 300
    assert sum(r.construction == "trap" for r in ROWS) >= 40
    used = {r.construction for r in ROWS}
    assert set(CONSTRUCTIONS) <= used, f"constructions with no row: {sorted(set(CONSTRUCTIONS) - used)}"
    assert {r.relation for r in ROWS} == set(PROPS)


def test_every_construction_has_a_non_factual_form():
    """Beside its positive rows, each (relation, construction) has a negated, planned, failed, ... row."""
    forms = defaultdict(set)
    for r in ROWS:
        forms[r.relation, r.construction].add(r.form)
    lacking = [pair for pair, fs in forms.items()
               if pair[1] not in ("trap", "passive-agentless") and "positive" in fs and fs == {"positive"}]
    assert not lacking, lacking


def test_two_trigger_words_per_construction():
    triggers = defaultdict(set)
    for r in ROWS:
        if r.form != "positive":
            continue
        t = trigger_of(r)
        if r.construction != "trap":
            assert t is not None, f"line {r.line}: no {r.relation} trigger word in {r.sentence!r}"
        if t is not None:
            triggers[r.relation, r.construction].add(t)
    pairs = {(r.relation, r.construction) for r in ROWS if r.form == "positive" and r.construction != "trap"}
    thin = {pair: sorted(triggers[pair]) for pair in pairs if len(triggers[pair]) < 2}
    assert not thin, thin


def test_symmetric_properties_agree_with_the_ontology():
    from newsgraph.resources import relation_specs

    specs = relation_specs()
    for prop in PROPS.values():
        if prop in specs:
            assert bool(specs[prop].get("symmetric")) == (prop in SYMMETRIC), prop


# Capitalised words that are not names (sentence openers, titles, days, months, generic name parts).
_NOT_NAMES = set("""
A An The Two Reporters Riot Arresting Sheikh Force Tribal League Rowing Frenchman Major Prince Crown Cardinal Patriarch Bernama Inc Arrests Rebel Troops Hold Hostages Militants After Since Following Having Hoping Meeting Talks Claims Reports Both Fighters Police Customs Critics Residents
Gunmen Kidnappers Hijackers Authorities Unidentified Twelve Customers Fighting Envoy President Prime Minister Foreign Defence Secretary
General Senator Governor Chancellor Ambassador Archbishop Commander Judge If No There At In On Of And
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August September
October November December Open Army Front Party Guard Energy Holdings Movement Council Corps Brigades Battalion Militia
Union Free Republican Freedom Tribal Lake Mount Port Pass Dam Hand Lantern Grey Cantons
Turkish Kenyan Chadian Ethiopian Dutch Polish Georgian Nigerian Peruvian Israeli Ukrainian Egyptian Indian
""".split())


def names_in_matrix() -> set[str]:
    """Every name the matrix uses: the labels it expects, and the runs of capitalised words in its sentences."""
    import pycountry

    countries = {c.name for c in pycountry.countries} | {getattr(c, "common_name", c.name) for c in pycountry.countries}
    countries |= {"Turkey", "Netherlands", "Burkina Faso"}
    names = set()
    for r in ROWS:
        names |= {n for e in r.expected + r.reported for n in (e.subject, e.object)}
        for line in r.text.split("\n"):
            for run in re.findall(r"[A-Z][\w'’-]*(?:\s+(?:of\s+)?[A-Z][\w'’-]*)*", line):
                words = [w for w in re.split(r"\s+", re.sub(r"'s\b|’s\b", "", run)) if w not in _NOT_NAMES and w != "of"]
                names |= {w for w in words}
                if len(words) > 1:
                    names.add(" ".join(words))
    return {n for n in names if n not in countries and n.split("-")[0] not in countries and len(n) > 2}


@pytest.mark.parametrize("name", ["dev.jsonl", "seed.jsonl"])
def test_names_are_not_from_the_evaluation_set(name):
    path = EVAL / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    text, gold_names = [], set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            doc = json.loads(line)
            text.append(doc.get("text", ""))
            for e in doc.get("entities", []):
                gold_names.update(e.get("names", []))
    corpus = "\n".join(text) + "\n" + "\n".join(gold_names)
    clashes = sorted(n for n in names_in_matrix()
                     if re.search(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", corpus, flags=re.IGNORECASE))
    assert not clashes, f"names also in {name}: {clashes}"


def test_open_rows_are_rows():
    """Every known failure names a row of the matrix, so a deleted or reworded row cannot hide in the list."""
    sentences = {r.sentence for r in ROWS}
    stale = sorted(set(KNOWN_OPEN) - sentences)
    assert not stale, f"constructions_open.tsv lists sentences that are not rows: {stale[:3]}"
    assert len(KNOWN_OPEN) < len(ROWS) / 4, "more than a quarter of the matrix is open"
