"""The template-disjoint split: delivery notes in a second family of layouts and phrasings, for evaluation only.

Nothing here is reachable from ``slmq.training.notegen.generate`` (the train and held-out splits), and no layout or
phrase table of that family is used here: the layouts (a carrier's booking, a pick list, an export declaration, a
help-desk ticket, a CSV/TSV export, key=value log lines, a team chat, a voicemail transcript) and the wording of
dates, instructions, references and quantities are written apart. Values (companies, people, places, goods) come
from the held-out part of the generator's pools, so they are unseen by training as well.
"""

from collections.abc import Callable, Iterator
from typing import Any

from slmq.training.notegen.disjoint import documents, streams
from slmq.training.notegen.disjoint.common import digits, spoken
from slmq.training.notegen.disjoint.facts import Facts, draw
from slmq.training.notegen.note import collapse, unspanned
from slmq.training.notegen.picker import Picker

DISJOINT_VERSION = "delivery_note-disjoint-1"
SPLIT = "disjoint"

LAYOUTS: tuple[tuple[str, Callable[[Picker, Facts], str]], ...] = (
    ("booking", documents.booking),
    ("picklist", documents.picklist),
    ("customs", documents.customs),
    ("ticket", documents.ticket),
    ("export", streams.export),
    ("log", streams.log),
    ("chat", streams.chat),
    ("voicemail", streams.voicemail),
)

__all__ = ["DISJOINT_VERSION", "LAYOUTS", "SPLIT", "generate"]


def generate(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` disjoint notes, deterministic for ``seed``; note i is the same whatever ``count`` is."""
    for index in range(count):
        yield make_note(seed, index)


def make_note(seed: int, index: int) -> dict[str, Any]:
    """The ``index``-th disjoint note of ``seed``: same arguments, same note."""
    p = Picker(f"{DISJOINT_VERSION}:{seed}:{index}", "heldout")  # held-out values only
    facts = draw(p)
    name, layout = LAYOUTS[index % len(LAYOUTS)] if index < len(LAYOUTS) else p.any(LAYOUTS)
    text = layout(p, facts).strip()
    gold = gold_of(facts, text)
    flat = collapse(text)
    missing = unspanned(gold, text) + [str(line.quantity) for line in facts.lines if not _quantity_written(line, flat)]
    if missing:
        raise ValueError(f"Note {SPLIT}/{seed}/{index}: {missing} are not spans of the text; fix the {name} layout.")
    return {"id": f"{SPLIT}-{seed}-{index:06d}", "text": text, "gold": gold, "tags": [name, *facts.tags]}


def gold_of(f: Facts, text: str) -> dict[str, Any]:
    """The gold record of ``f`` as ``text`` writes it; the reference is the first one the text gives."""
    found = [(text.find(code), code) for code in f.references if code in text]

    def c(value: str | None) -> str | None:
        return collapse(value) if value is not None else None

    a = f.address
    return {
        "consignee": c(f.consignee),
        "address": {"street": c(a.street), "city": c(a.city), "region": c(a.region), "postcode": c(a.postcode),
                    "country": c(a.country)},
        "items": [{"quantity": line.quantity, "unit": c(line.unit), "description": c(line.description)}
                  for line in f.lines],
        "delivery_date": c(f.delivery_date),
        "contact_name": c(f.contact_name),
        "contact_phone": c(f.contact_phone),
        "reference": min(found)[1] if found else None,
        "instructions": c(f.instructions),
    }  # fmt: skip


def _quantity_written(line: Any, flat: str) -> bool:
    return digits(line) in flat or spoken(line) in flat
