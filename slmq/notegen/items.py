"""Lines of goods: a quantity as written and as a number, a unit word or none, and a description."""

from dataclasses import dataclass

from slmq.notegen.picker import Picker
from slmq.notegen.vocab import GOODS, KIND_BY_WORD, UNITS_EN, UNITS_LOCAL

NUMBER_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    15: "fifteen",
    20: "twenty",
    24: "twenty-four",
    30: "thirty",
    40: "forty",
    50: "fifty",
    100: "one hundred",
    200: "two hundred",
}
DECIMAL_COMMA = {"de", "fr", "nl", "it", "es", "pl"}

WITH_UNIT = (
    "{q} {u} of {d}",
    "{q} {u} {d}",
    "{q} {u} - {d}",
    "{d} - {q} {u}",
    "{d}: {q} {u}",
    "{d}, {q} {u}",
    "{q} {u} of {d}",
    "{q} {u} {d}",
    "{q} {u} \u2013 {d}",
    "{d} ({q} {u})",
    "{d} {q} {u}",
)
WITHOUT_UNIT = (
    "{q} x {d}",
    "{q}x {d}",
    "{d} x {q}",
    "{d} x{q}",
    "{q} {d}",
    "{q} {d}",
    "{q} X {d}",
    "{d} - {q}",
    "{d}: {q}",
    "{d} ({q})",
    "{q} {d}",
)
WITH_UNIT_LOCAL = {
    "fr": ("{q} {u} de {d}", "{q} {u} {d}", "{d} : {q} {u}"),
    "de": ("{q} {u} {d}", "{d}: {q} {u}"),
    "nl": ("{q} {u} {d}", "{d}: {q} {u}"),
}


@dataclass
class Item:
    quantity: float | int
    written: str  # the quantity as the note writes it
    unit: str | None
    description: str
    words: bool = False

    def gold(self) -> dict[str, object]:
        return {"quantity": self.quantity, "unit": self.unit, "description": self.description}


def _quantity(p: Picker, kind: str, lang: str) -> tuple[float | int, str, bool]:
    if kind == "count" or p.chance(0.6):
        roll = p.rng.random()
        if roll < 0.1:
            number = p.any(tuple(NUMBER_WORDS))
            return number, NUMBER_WORDS[number], True
        if roll < 0.18:
            number = p.any((100, 120, 150, 200, 250, 500, 600, 750, 1000, 1200, 1500, 2000, 2500, 5000, 10000))
            if number >= 1000 and lang not in DECIMAL_COMMA and p.chance(0.6):
                return number, f"{number:,}", False
            return number, str(number), False
        number = p.weighted(((p.between(1, 12), 6), (p.between(13, 60), 3), (1, 2)))
        return number, str(number), False
    whole = p.between(0, 40)
    tenths = p.any((5, 25, 75, 2, 5))
    value = float(f"{whole}.{tenths}")
    written = f"{whole}.{tenths}"
    if lang in DECIMAL_COMMA and p.chance(0.7):
        written = written.replace(".", ",")
    return value, written, False


def packaging(description: str, kind: str) -> str:
    """The kind of units that suit goods: measures for bulk goods, fitting packaging for counted ones."""
    if kind != "count":
        return kind
    return next((unit_kind for word, unit_kind in KIND_BY_WORD if word in description), "count")


def make_items(p: Picker, lang: str, count: int) -> list[Item]:
    """``count`` distinct lines of goods; about a fifth of them with no unit (never a decimal quantity)."""
    goods = p.sample(GOODS, count)
    items = []
    for description, kind in goods:
        quantity, written, words = _quantity(p, kind, lang)
        unit: str | None = None
        if p.chance(0.8) or not isinstance(quantity, int):
            unit_kind = packaging(description, kind)
            local = UNITS_LOCAL.get(lang, {}).get(unit_kind if unit_kind in UNITS_LOCAL.get(lang, {}) else "count")
            units = (
                local
                if local and unit_kind in {"count", "mass", "length", "volume", "area"} and p.chance(0.7)
                else (UNITS_EN[unit_kind])
            )
            singular, plural = p.any(units)
            unit = singular if quantity == 1 else plural
        items.append(Item(quantity, written, unit, description, words))
    return items


def render_item(p: Picker, item: Item, lang: str) -> str:
    """One item as a phrase: "12 pallets of A4 paper", "3 x brake pads", "gravel: 2.5 t"."""
    if item.unit is None:
        pattern = p.any(WITHOUT_UNIT)
        if item.words and "x" in pattern.replace("{d}", ""):
            pattern = "{q} {d}"
        return pattern.format(q=item.written, d=item.description)
    pool = WITH_UNIT_LOCAL[lang] if lang in WITH_UNIT_LOCAL and p.chance(0.7) else WITH_UNIT
    pattern = p.any(pool)
    if pattern == "{q} {u} de {d}" and item.description[:1].lower() in "aeiouéh":
        pattern = "{q} {u} d'{d}"
    if item.unit in {"kg", "t", "m", "l", "lbs", "ft"} and p.chance(0.3) and pattern.startswith("{q} {u}"):
        pattern = pattern.replace("{q} {u}", "{q}{u}", 1)
    return pattern.format(q=item.written, u=item.unit, d=item.description)
