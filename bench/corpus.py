"""Synthetic news articles for the benchmark, written from this file's own templates.

Every name is invented here (people, armed groups, towns), drawn with a seeded
random generator, so the same ``seed`` always gives the same corpus. The
sentences are written in newswire style so that the extraction rules have
real work to do: meetings, captures, alliances, with negation, plans,
attribution, pronouns and acronyms mixed in.
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterator

FIRST = ["Anselm", "Brisa", "Corwin", "Delphine", "Emeric", "Fenna", "Gideon", "Halina", "Ivo", "Jorun",
         "Kestrel", "Liora", "Matthias", "Nerys", "Oskar", "Petra", "Quillon", "Rasmus", "Sabine", "Tobiah",
         "Ulla", "Valen", "Wilhelmina", "Xavian", "Ysolde", "Zoran"]
LAST = ["Ardwick", "Belcourt", "Castellane", "Drummond", "Esterhay", "Falkenrath", "Grimsdottir", "Holloway",
        "Ingleby", "Jessop", "Kovalenko", "Lindqvist", "Marchetti", "Norrgard", "Oyelaran", "Pellowe",
        "Quennell", "Rathbone", "Szalai", "Thorvald", "Underhay", "Vantongeren", "Wexley", "Yarrow", "Zeller"]
GROUP_HEAD = ["Liberation Front", "National Army", "People's Militia", "Defence Forces", "Unity Movement",
              "Revolutionary Guard", "Patriotic Alliance", "Border Brigade"]
GROUP_LAND = ["Northern", "Eastern", "Coastal", "Highland", "Riverland", "Southern", "Western", "Plateau"]
TOWNS = ["Quarrenby", "Ostrel", "Dunmarrow", "Velsk", "Harrowgate", "Ilmaren", "Karsovo", "Lothmere", "Brannock",
         "Serevan", "Tolvik", "Ambrecht", "Ceyrac", "Dravik", "Esmond", "Fallowmere", "Gorsk", "Hestrow",
         "Juniper Bay", "Kelvane", "Marisol", "Norwick", "Palvenna", "Rostrevor"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

TEMPLATES = [
    "{p1} met {p2} in {t1} on {day} to discuss the ceasefire.",
    "{p1} held talks with {p2} in the capital, officials said.",
    "Fighters of the {g1} ({a1}) captured {t1} after two days of heavy shelling.",
    "{A1} forces took {t2} early on {day}, according to residents.",
    "The {g1} said it had seized the airport outside {t1}.",
    "{p2} said the {g2} was allied to the {g1}.",
    "The {g2}, which is allied to {p1}, denied taking {t2}.",
    "{p1} will meet {p2} next week if the truce holds.",
    "The {g2} failed to capture {t3} and withdrew to the hills.",
    "{s1} told reporters that the fighting around {t3} had displaced thousands of families.",
    "Aid agencies said food and medicine were running short in {t2}.",
    "He said the talks with {p2} had been constructive but that much work remained.",
    "Residents of {t1} described long queues for bread and water.",
    "The {g1} did not take {t3}, a spokesman for the group said.",
    "{p2} arrested three commanders of the {g2} in {t2} on {day}.",
    "Diplomats from both sides are expected to meet again before the end of the month.",
    "The ministry said roads between {t1} and {t2} remained closed to civilian traffic.",
    "Analysts said the offensive could reshape the balance of power in the region.",
]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _group(rng: random.Random) -> tuple[str, str]:
    name = f"{rng.choice(GROUP_LAND)} {rng.choice(GROUP_HEAD)}"
    return name, "".join(w[0] for w in name.replace("'s", "").split()).upper()


def article(rng: random.Random, number: int, sentences: int = 24) -> dict:
    """One article: a headline-free body of ``sentences`` template sentences in paragraphs of three."""
    p1, p2 = _name(rng), _name(rng)
    (g1, a1), (g2, _) = _group(rng), _group(rng)
    slots = {"p1": p1, "p2": p2, "s1": p1.split()[-1], "g1": g1, "a1": a1, "A1": a1, "g2": g2,
             "t1": rng.choice(TOWNS), "t2": rng.choice(TOWNS), "t3": rng.choice(TOWNS), "day": rng.choice(WEEKDAYS)}
    body = []
    for i in range(sentences):
        if i % 3 == 0:  # each paragraph moves the story on: other towns, another day, maybe another person
            slots.update(t2=rng.choice(TOWNS), t3=rng.choice(TOWNS), day=rng.choice(WEEKDAYS))
            if rng.random() < 0.3:
                slots["p2"] = _name(rng)
        body.append(rng.choice(TEMPLATES).format(**slots))
    paragraphs = [" ".join(body[i:i + 3]) for i in range(0, len(body), 3)]
    return {"id": f"bench-{number:06d}", "title": f"Fighting near {slots['t1']}", "date": "2024-05-01",
            "text": f"{slots['t1'].upper()} (Bench Wire) - " + "\n\n".join(paragraphs)}


def articles(n: int, seed: int = 7, sentences: int = 24) -> Iterator[dict]:
    """``n`` articles, the same for the same seed."""
    rng = random.Random(seed)
    for i in range(n):
        yield article(rng, i, sentences)


def write_jsonl(path, n: int, seed: int = 7, sentences: int = 24) -> int:
    """Write ``n`` articles as JSON Lines; returns the number of words written."""
    words = 0
    with open(path, "w", encoding="utf-8") as f:
        for a in articles(n, seed, sentences):
            words += len(a["text"].split())
            f.write(json.dumps(a, ensure_ascii=False) + "\n")
    return words
