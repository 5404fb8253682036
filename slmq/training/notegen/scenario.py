"""One delivery's facts, true and distracting, before any layout writes them down."""

from dataclasses import dataclass, field

from slmq.training.notegen import access, phrases, when
from slmq.training.notegen.goods import SECTORS
from slmq.training.notegen.items import Item, make_items
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.places import Country, country_choices
from slmq.training.notegen.values import Address, address, company, distinct_person, phone
from slmq.training.notegen.vocab import CARRIERS, COMPANY_TRADES, JOB_TITLES

DAY_AND_WINDOW = 0.3  # of delivery dates (synth-16)
CLDR_DATE = 0.25  # of delivery dates, before the above (synth-18)
LOCAL_LANG = {"DE": "de", "AT": "de", "CH": "de", "FR": "fr", "BE": "fr", "NL": "nl"}


@dataclass
class Scenario:
    country: Country
    lang: str
    consignee: str | None
    address: Address
    items: list[Item]
    delivery_date: str | None
    date_is_hours: bool
    contact_name: str | None
    contact_phone: str | None
    references: list[str]  # the codes as the gold record holds them, in the note's order
    instructions: str | None
    contact_in_instructions: bool
    # Distractors: parties, places, dates and numbers that are not the answer.
    sender: str
    sender_person: str
    sender_phone: str
    sender_address: Address
    sender_country: Country
    supplier_first: str
    billing: Address | None
    order_date: str | None
    other_numbers: list[str] = field(default_factory=list)
    carrier: str | None = None
    driver: str | None = None
    title: str = ""
    consignee_person: bool = False
    contact_name_written: bool = False  # the consignee block already names the contact ("FAO Jim")
    tags: list[str] = field(default_factory=list)


def draw(p: Picker) -> Scenario:
    """Draw every fact of one delivery, with the fields a note leaves out already set to None."""
    country = p.weighted(country_choices())
    lang = LOCAL_LANG.get(country.code, "en") if p.chance(0.3) else "en"
    sector = p.any(SECTORS)
    consignee: str | None = company(p, country, sector.trades if p.chance(0.7) else COMPANY_TRADES, venues=True)
    taken: set[str] = set()  # name words already used by someone in this note
    consignee_person = p.chance(0.06)
    if consignee_person:
        consignee = distinct_person(p, country, taken, "full")
    elif p.chance(0.04):
        consignee = None
    item_count = p.weighted(
        ((0, 0.6), (1, 3), (2, 3), (3, 3), (4, 1.5), (5, 0.8), (6, 0.5), (8, 0.3), (10, 0.15), (12, 0.1))
    )
    contact_name = distinct_person(p, country, taken) if p.chance(0.7) and not consignee_person else None
    contact_phone = phone(p, country) if p.chance(0.72) else None
    if contact_name is None and contact_phone is None and p.chance(0.3):
        contact_phone = phone(p, country)
    delivery = address(p, country, extras=True)
    in_instructions = p.chance(0.25) and (contact_name is not None or contact_phone is not None)
    instructions: str | None = None
    if in_instructions or p.chance(0.68):
        name, number = (contact_name, contact_phone) if in_instructions else (None, None)
        instructions = access.instructions(p, country, lang, lambda: side_street(p, country, delivery), name, number)
        in_instructions = (contact_name or "\0") in instructions or (contact_phone or "\0") in instructions
    date_is_hours = False
    delivery_date: str | None = _delivery_date(p, lang, country) if p.chance(0.82) else None
    if delivery_date is None and p.chance(0.3):
        delivery_date, date_is_hours = phrases.receiving_hours(p), True
    references = [phrases.reference_code(p) for _ in range(p.weighted(((0, 3), (1, 8), (2, 1))))]
    sender_country = country if p.chance(0.8) else p.weighted(country_choices())
    tags = [f"country:{country.code}"]
    if lang != "en":
        tags.append("non_english")
    return Scenario(
        country=country,
        lang=lang,
        consignee=consignee,
        address=delivery,
        items=make_items(p, lang, item_count, sector),
        delivery_date=delivery_date,
        date_is_hours=date_is_hours,
        contact_name=contact_name,
        contact_phone=contact_phone,
        references=references,
        instructions=instructions,
        contact_in_instructions=in_instructions,
        sender=company(p, sender_country),
        sender_person=distinct_person(p, sender_country, taken, "full"),
        sender_phone=phone(p, sender_country),
        sender_address=address(p, sender_country, extras=True),
        sender_country=sender_country,
        supplier_first=distinct_person(p, sender_country, taken, "first"),
        billing=address(p, country, extras=True) if p.chance(0.2) else None,
        order_date=phrases.order_date(p) if p.chance(0.35) else None,
        other_numbers=[phrases.distractor_number(p, lang) for _ in range(p.weighted(((0, 5), (1, 3), (2, 1))))],
        carrier=p.one(CARRIERS) if p.chance(0.25) else None,
        driver=distinct_person(p, country, taken) if p.chance(0.12) else None,
        title=p.any(JOB_TITLES),
        tags=tags,
        consignee_person=consignee_person,
    )


def side_street(p: Picker, country: Country, delivery: Address) -> str:
    """A street of ``country`` for an instruction to name: not the delivery address's, without its number."""
    for _ in range(10):
        name = access.street_name(p.one(country.world.streets) if country.world else p.one(country.streets))
        if len(name) > 1 and name not in (delivery.street or "") and name not in (delivery.city or ""):
            return name
    return ""


def _delivery_date(p: Picker, lang: str, country: Country) -> str:
    """A date as one pattern, or (synth-16, 30%) a day and a window, in the site's language now and then; or
    (synth-18, 25%) a day as CLDR writes it in the locale of the note's or the site's language in that country."""
    if p.chance(CLDR_DATE):
        return when.cldr_date(p, when.locale_of(country, p.any((lang, country.language))))
    if not p.chance(DAY_AND_WINDOW):
        return phrases.delivery_date(p, lang)
    site = access.language(country)
    return when.day_and_window(p, site if p.chance(0.25 if lang == "en" else 0.8) else lang)
