"""Lines of goods: a quantity as written and as a number, a unit word or none, and a description."""

from dataclasses import dataclass

from slmq.training.notegen.goods import (
    ABBREVIATIONS,
    LOCAL_GOODS,
    LOCAL_UNITS,
    MEASURES,
    PACK_SIZES,
    QUALIFIER_FORMS,
    QUALIFIERS,
    SINGULAR,
    SINGULAR_LOCAL,
    Sector,
)
from slmq.training.notegen.picker import Picker

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

# fmt: off
WITH_UNIT = (
    "{q} {u} of {d}", "{q} {u} {d}", "{q} {u} - {d}", "{d} - {q} {u}", "{d}: {q} {u}", "{d}, {q} {u}",
    "{q} {u} of {d}", "{q} {u} {d}", "{q} {u} \u2013 {d}", "{d} ({q} {u})", "{d} {q} {u}",
)
# fmt: on
# fmt: off
WITHOUT_UNIT = (
    "{q} x {d}", "{q}x {d}", "{d} x {q}", "{d} x{q}", "{q} {d}", "{q} {d}", "{q} X {d}", "{d} - {q}", "{d}: {q}",
    "{d} ({q})", "{q} {d}",
)
# fmt: on
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
    local: bool = False  # goods named in the note's language


SMALL_UNITS = {"pcs", "units", "bottles", "sheets", "boxes", "packs", "bags", "rolls"}


def _count(p: Picker, lang: str, plural: str) -> tuple[int, str, bool]:
    roll = p.rng.random() if plural in SMALL_UNITS else p.rng.random() * 0.9 + 0.1
    if roll < 0.1:
        number = p.any(tuple(NUMBER_WORDS))
        return number, NUMBER_WORDS[number], True
    if roll < 0.17:
        number = p.any((100, 120, 150, 200, 250, 500, 600, 750, 1000, 1200, 1500, 2000, 2500, 5000, 10000))
        if number >= 1000 and lang not in DECIMAL_COMMA and p.chance(0.6):
            return number, f"{number:,}", False
        return number, str(number), False
    number = p.weighted(((p.between(1, 12), 6), (p.between(13, 60), 3), (1, 2)))
    return number, str(number), False


def _measure(p: Picker, lang: str) -> tuple[float | int, str, bool]:
    if p.chance(0.5):
        number = p.any((5, 10, 12, 20, 25, 40, 50, 75, 100, 150, 200, 250, 500, 1000))
        return number, str(number), False
    whole, fraction = p.between(0, 30), p.any(("5", "25", "75", "2", "4", "5", "8"))
    written = f"{whole}.{fraction}"
    value = float(written)
    if value == 0:
        return 1.5, "1.5", False
    if lang in DECIMAL_COMMA and p.chance(0.7):
        written = written.replace(".", ",")
    return value, written, False


def _unit(p: Picker, plural: str, quantity: float | int, lang: str) -> str:
    local = LOCAL_UNITS.get(lang, {})
    if plural in local and p.chance(0.7):
        singular, plural = local[plural]
    else:
        singular = SINGULAR.get(plural, plural)
        if plural in ABBREVIATIONS and p.chance(0.12):
            singular, plural = ABBREVIATIONS[plural]
    return singular if quantity == 1 else plural


def pack_size(p: Picker, lang: str, quantity: float | int) -> str:
    """A pack size or dimension for a description, none of whose numbers is ``quantity``."""
    for _ in range(5):
        n = p.any((1, 2, 5, 10, 12, 20, 25, 50, 100, 150, 250, 330, 500, 600, 750, 900, 1000, 1200))
        a, b, k = p.any((30, 40, 50, 60, 120, 600)), p.any((40, 70, 80, 90, 900)), p.any((6, 12, 24, 48))
        written = p.any(PACK_SIZES).format(n=n, a=a, b=b, k=k)
        if p.chance(0.3) and n < 5:
            written = written.replace(str(n), f"{n},5" if lang in DECIMAL_COMMA else f"{n}.5", 1)
        if str(quantity) not in written.replace(",", " ").replace(".", " ").replace("x", " ").split():
            return written
    return "assorted"


def make_items(p: Picker, lang: str, count: int, sector: Sector) -> list[Item]:
    """``count`` distinct lines of the sector's goods; about a fifth of counted ones with no unit."""
    items = []
    local = lang in LOCAL_GOODS and p.chance(0.7)  # goods named in the note's language, units too
    for line in p.sample(LOCAL_GOODS[lang] if local else sector.goods, count):
        description, units = line.split("|")
        plural = p.any(units.split(","))
        if plural in MEASURES:
            quantity, written, words = _measure(p, lang)
            unit: str | None = plural if local else _unit(p, plural, quantity, lang)
        elif local:
            quantity, written, words = _count(p, lang, plural)
            unit = (SINGULAR_LOCAL.get(plural, plural) if quantity == 1 else plural) if p.chance(0.85) else None
        else:
            quantity, written, words = _count(p, lang, plural)
            unit = _unit(p, plural, quantity, lang) if p.chance(0.78) else None
            if p.chance(0.12):  # synth-15
                description = f"{description} {pack_size(p, lang, quantity)}"
        if p.chance(0.15):  # synth-16: a variant after the goods, local goods in their language
            pool = QUALIFIERS[lang] if local and lang in QUALIFIERS else QUALIFIERS["en"]
            description = p.any(QUALIFIER_FORMS).format(d=description, q=p.one(pool))
        if unit is None and words:
            written, words = str(quantity), False
        items.append(Item(quantity, written, unit, description, words, local))
    return items


def render_item(p: Picker, item: Item, lang: str) -> str:
    """One item as a phrase: "12 pallets of A4 paper", "3 x brake pads", "gravel: 2.5 t"."""
    if item.unit is None:
        pattern = p.any(WITHOUT_UNIT)
        if item.words and "x" in pattern.replace("{d}", ""):
            pattern = "{q} {d}"
        return pattern.format(q=item.written, d=item.description)
    pool = WITH_UNIT_LOCAL[lang] if lang in WITH_UNIT_LOCAL and (item.local or p.chance(0.7)) else WITH_UNIT
    pattern = p.any(pool)
    if pattern == "{q} {u} de {d}" and item.description[:1].lower() in "aeiouéh":
        pattern = "{q} {u} d'{d}"
    if item.unit in {"kg", "t", "m", "l", "lbs", "ft"} and p.chance(0.3) and pattern.startswith("{q} {u}"):
        pattern = pattern.replace("{q} {u}", "{q}{u}", 1)
    return pattern.format(q=item.written, u=item.unit, d=item.description)
