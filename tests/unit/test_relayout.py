"""Relaid-out training notes: another line structure, the same words, every gold value where it was tagged."""

import random
import re

from slmq.training import notegen
from slmq.training.relayout import relayout
from slmq.training.tagging import gold_spans

NOTE = "Ship to: Acme Ltd\nUnit 4, 22 Mill Lane\nLeith EH6 6QQ\nPO 7731-22\nCall Jim on 07700 900123"
GOLD = {
    "consignee": "Acme Ltd",
    "address": {"street": "Unit 4, 22 Mill Lane", "city": "Leith", "postcode": "EH6 6QQ"},
    "reference": "7731-22",
    "contact_name": "Jim",
    "contact_phone": "07700 900123",
    "items": [],
}


def words(text: str) -> str:
    return re.sub(r"[\s,|/;-]", "", text)


def test_a_relaid_out_note_keeps_its_words_and_every_gold_span() -> None:
    rng = random.Random(3)
    changed = 0
    for note in notegen.generate(60, 7, "train"):
        text = relayout(note["text"], note["gold"], rng)
        changed += text != note["text"]
        # Then only separators and line breaks moved, and each kind is found as often as before
        assert words(text) == words(note["text"])
        before, after = gold_spans(note["text"], note["gold"]), gold_spans(text, note["gold"])
        assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
        for kind, spans in after.items():
            values = [" ".join(text[s.start : s.end].split()) for s in spans]
            assert values == [" ".join(note["text"][s.start : s.end].split()) for s in before[kind]]
    assert changed >= 40  # most notes change (a note with nothing to join or break stays as it was)


def test_a_break_or_comma_inside_a_value_is_never_touched() -> None:
    for seed in range(20):
        text = relayout(NOTE, GOLD, random.Random(seed))
        assert "Unit 4, 22 Mill Lane" in text  # the street's own comma stays
        assert words(text) == words(NOTE)
