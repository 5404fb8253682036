"""One delivery's facts for the disjoint family, drawn from the held-out part of the generator's value pools."""

from dataclasses import dataclass, field

from slmq.training.notegen.disjoint import wording
from slmq.training.notegen.goods import MEASURES, SECTORS, SINGULAR
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.places import COUNTRIES, COUNTRY_WEIGHTS, Country
from slmq.training.notegen.values import Address, address, company, distinct_person, phone
from slmq.training.notegen.vocab import CARRIERS


@dataclass
class Line:
    """A line of goods; the layout writes the quantity and sets ``unit`` to the word or code it wrote."""

    quantity: float | int
    plural: str  # the goods pool's English plural, from which a layout takes its unit word or code
    description: str
    measure: bool
    unitless: bool  # the layout writes no unit for this line
    unit: str | None = None


@dataclass
class Facts:
    country: Country
    consignee: str | None
    address: Address
    lines: list[Line]
    date_style: str  # "written", "spoken" or "iso": which date table the layout will fill
    has_date: bool
    contact_name: str | None
    contact_phone: str | None
    references: list[str]
    instructions: str | None
    contact_in_instructions: bool
    sender: str
    sender_person: str
    sender_phone: str
    sender_address: Address
    sender_country: Country
    colleague: str
    carrier: str
    issued: str  # a date that is not the delivery's: booked, printed, exported
    invoice: str | None
    delivery_date: str | None = None
    tags: list[str] = field(default_factory=list)


def _country(p: Picker) -> Country:
    return p.weighted(tuple((c, COUNTRY_WEIGHTS[c.code]) for c in COUNTRIES))


def _lines(p: Picker, count: int) -> list[Line]:
    sector = p.any(SECTORS)
    lines = []
    for entry in p.sample(sector.goods, count):
        description, units = entry.split("|")
        plural = p.any(units.split(","))
        measure = plural in MEASURES
        if measure:
            quantity: float | int = p.any((2.5, 7.5, 12, 40, 0.75, 150, 18.25, 300))
        else:
            quantity = p.weighted(((p.between(1, 9), 5), (p.between(10, 99), 4), (p.any((120, 240, 1000, 2500)), 1)))
        unit = plural if quantity != 1 else SINGULAR.get(plural, plural)
        lines.append(Line(quantity, plural, description, measure, not measure and p.chance(0.15), unit))
    return lines


def draw(p: Picker) -> Facts:
    """Every fact of one delivery, with the fields this note leaves out already None."""
    country = _country(p)
    taken: set[str] = set()
    consignee: str | None = company(p, country)
    if p.chance(0.05):
        consignee = distinct_person(p, country, taken, "full")
    elif p.chance(0.05):
        consignee = None
    contact_name = distinct_person(p, country, taken) if p.chance(0.7) else None
    contact_phone = phone(p, country) if p.chance(0.7) else None
    instructions, in_instructions = None, False
    if p.chance(0.7):
        instructions, in_instructions = wording.instruction(p, contact_name, contact_phone)
    sender_country = country if p.chance(0.8) else _country(p)
    count = p.weighted(((0, 1), (1, 3), (2, 3), (3, 2.5), (4, 1.2), (6, 0.5)))
    return Facts(
        country=country,
        consignee=consignee,
        address=address(p, country),
        lines=_lines(p, count),
        date_style=p.any(("written", "spoken", "iso")),
        has_date=p.chance(0.85),
        contact_name=contact_name,
        contact_phone=contact_phone,
        references=[wording.code(p, wording.REFERENCE_SHAPES) for _ in range(p.weighted(((0, 2), (1, 7), (2, 2))))],
        instructions=instructions,
        contact_in_instructions=in_instructions,
        sender=company(p, sender_country),
        sender_person=distinct_person(p, sender_country, taken, "full"),
        sender_phone=phone(p, sender_country),
        sender_address=address(p, sender_country),
        sender_country=sender_country,
        colleague=distinct_person(p, sender_country, taken, "first"),
        carrier=p.one(CARRIERS),
        issued=wording.when(p, wording.ISO_DATES[:1] + wording.ISO_DATES[2:]),
        invoice=wording.code(p, wording.INVOICE_SHAPES) if p.chance(0.3) else None,
        tags=[f"country:{country.code}"],
    )


def date(p: Picker, f: Facts, style: str | None = None) -> str | None:
    """The delivery date in ``style`` (the facts' own by default), remembered for the gold record."""
    if not f.has_date:
        return None
    pool = {"written": wording.WRITTEN_DATES, "spoken": wording.SPOKEN_DATES, "iso": wording.ISO_DATES}
    f.delivery_date = wording.when(p, pool[style or f.date_style])
    return f.delivery_date
