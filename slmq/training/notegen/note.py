"""One generated note: a layout writes a scenario down, the gold record is read off it and checked."""

from typing import Any

from slmq.training.notegen import forward, ocr
from slmq.training.notegen.layouts import LAYOUTS
from slmq.training.notegen.picker import Picker, Split
from slmq.training.notegen.scenario import Scenario, draw

TEXT_FIELDS = ("consignee", "delivery_date", "contact_name", "contact_phone", "reference", "instructions")
ADDRESS_FIELDS = ("street", "city", "region", "postcode", "country")
FORWARDED = {"email": 0.3, "sms": 0.12, "oneliner": 0.12, "form": 0.08}  # share of each layout's notes (synth-15)


def collapse(value: str) -> str:
    return " ".join(value.split())


def gold_of(s: Scenario, text: str) -> dict[str, Any]:
    """The gold record of ``s`` as written in ``text``; the reference is the first one the text gives."""
    found = [(text.find(code), code) for code in s.references if code in text]
    reference = min(found)[1] if found else None

    def c(value: str | None) -> str | None:
        return collapse(value) if value is not None else None

    a = s.address
    return {
        "consignee": c(s.consignee),
        "address": {
            "street": c(a.street),
            "city": c(a.city),
            "region": c(a.region),
            "postcode": c(a.postcode),
            "country": c(a.country),
        },
        "items": [{"quantity": i.quantity, "unit": c(i.unit), "description": c(i.description)} for i in s.items],
        "delivery_date": c(s.delivery_date),
        "contact_name": c(s.contact_name),
        "contact_phone": c(s.contact_phone),
        "reference": reference,
        "instructions": c(s.instructions),
    }


def text_values(gold: dict[str, Any]) -> list[str]:
    """Every text value of a gold record (all but the quantities)."""
    values = [gold[key] for key in TEXT_FIELDS] + [gold["address"][key] for key in ADDRESS_FIELDS]
    for item in gold["items"]:
        values += [item["unit"], item["description"]]
    return [value for value in values if value is not None]


def unspanned(gold: dict[str, Any], text: str) -> list[str]:
    """The gold text values that are not a verbatim span of ``text`` (whitespace collapsed); empty when all are."""
    flat = collapse(text)
    return [value for value in text_values(gold) if collapse(value) != value or value not in flat]


def make_note(seed: int, split: Split, index: int, version: str) -> dict[str, Any]:
    """The ``index``-th note of (seed, split): same arguments, same note."""
    p = Picker(f"{version}:{split}:{seed}:{index}", split)
    s = draw(p)
    name, layout = p.weighted(tuple(((name, fn), weight) for name, fn, weight in LAYOUTS))
    if name == "table" and not s.items:  # a table needs items; the same form without one
        name, layout = "form", next(fn for other, fn, _ in LAYOUTS if other == "form")
    scanned = name in {"form", "table"} and p.chance(0.3)
    if scanned:
        ocr.damage_values(p, s)
    text = layout(p, s)
    gold = gold_of(s, text)
    if scanned:
        quantities = [item.written for item in s.items]  # "1,500" must not become "1.500", nor "one" "onc"
        text = ocr.damage_text(p, text, text_values(gold) + quantities)
        if p.chance(0.15):
            text = text.upper()
            gold = gold_of(_upper(s), text)
        s.tags.append("ocr")
    elif p.chance(FORWARDED.get(name, 0.0)):
        chain = forward.forwarded(p, s, text, text_values(gold) + [item.written for item in s.items])
        if chain is not None:
            text, gold = chain, gold_of(s, chain)
            s.tags.append("forwarded")
    text = text.strip()
    flat = collapse(text)
    missing = unspanned(gold, text) + [
        item.written for item in s.items if item.written.lower() not in flat.lower() and str(item.quantity) not in flat
    ]
    if missing:
        raise ValueError(f"Note {split}/{seed}/{index}: {missing} are not spans of the text; fix the layout.")
    return {"id": f"{split}-{seed}-{index:06d}", "text": text, "gold": gold, "tags": _tags(s, name)}


def _upper(s: Scenario) -> Scenario:
    for key in ("consignee", "delivery_date", "contact_name", "contact_phone", "instructions"):
        value = getattr(s, key)
        setattr(s, key, value.upper() if value else value)
    for key in ADDRESS_FIELDS:
        value = getattr(s.address, key)
        setattr(s.address, key, value.upper() if value else value)
    for item in s.items:
        item.description = item.description.upper()
        item.unit = item.unit.upper() if item.unit else None
    s.references = [code.upper() for code in s.references]
    return s


def _tags(s: Scenario, layout: str) -> list[str]:
    tags = [layout, *s.tags]
    if any(item.words for item in s.items):
        tags.append("quantity_words")
    if s.billing or s.order_date or s.other_numbers or s.carrier or s.driver:
        tags.append("distractor")
    return list(dict.fromkeys(tags))
