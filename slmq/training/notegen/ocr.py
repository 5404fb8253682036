"""OCR-like damage: confused characters and broken spacing, with the gold values damaged alike."""

import re

from slmq.training.notegen.picker import Picker
from slmq.training.notegen.scenario import Scenario

CONFUSIONS = {
    "O": "0",
    "o": "0",
    "l": "1",
    "I": "l",
    "i": "l",
    "e": "c",
    "S": "5",
    "B": "8",
    "m": "rn",
    "g": "q",
    "a": "o",
    ",": ".",
    "t": "f",
    "h": "b",
}


def damage(p: Picker, value: str, rate: float) -> str:
    """``value`` with a few characters swapped for look-alikes."""
    out = []
    for char in value:
        out.append(CONFUSIONS[char] if char in CONFUSIONS and p.rng.random() < rate else char)
    return "".join(out)


def damage_values(p: Picker, s: Scenario) -> None:
    """Damage the values a scanner would misread; the gold record copies the damaged text."""
    rate = p.any((0.02, 0.04, 0.06))
    if s.consignee and p.chance(0.5):
        s.consignee = damage(p, s.consignee, rate)
    if s.address.street and p.chance(0.4):
        s.address.street = damage(p, s.address.street, rate)
    for item in s.items:
        if p.chance(0.3):
            item.description = damage(p, item.description, rate)
    if s.instructions and not s.contact_in_instructions and p.chance(0.4):
        s.instructions = damage(p, s.instructions, rate)


def _protected(text: str, values: list[str]) -> list[bool]:
    keep = [False] * len(text)
    for value in values:
        pattern = r"\s+".join(re.escape(token) for token in value.split())
        for match in re.finditer(pattern, text):
            for index in range(match.start(), match.end()):
                keep[index] = True
    return keep


def damage_text(p: Picker, text: str, values: list[str]) -> str:
    """Damage the labels and filler of ``text`` (never the gold spans) and break its spacing."""
    keep = _protected(text, values)
    rate = p.any((0.01, 0.02, 0.03))
    chars = [
        char if keep[i] or char not in CONFUSIONS or p.rng.random() >= rate else CONFUSIONS[char]
        for i, char in enumerate(text)
    ]
    out = []
    for char in chars:
        if char == " " and p.rng.random() < 0.06:
            out.append(p.any(("  ", "   ", "\n", " \n ")))
        else:
            out.append(char)
    return "".join(out)
