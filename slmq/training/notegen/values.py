"""Field values of one note, drawn per country: parties, addresses, dates, references, contacts."""

from collections.abc import Callable
from dataclasses import dataclass

from slmq.training.notegen import world
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.places import Country
from slmq.training.notegen.venues import venue
from slmq.training.notegen.vocab import COMPANY_HEADS, COMPANY_TRADES, FIRST_NAMES, INSTITUTIONS, LEGAL_FORMS, SURNAMES
from slmq.training.notegen.world import World

NAME_LANG = {
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "FR": "fr",
    "BE": "fr",
    "NL": "nl",
    "IT": "it",
    "ES": "es",
    "PL": "pl",
    "IN": "in",
    "JP": "jp",
    "FI": "nordic",
    "SE": "nordic",
    "DK": "nordic",
    "NO": "nordic",
    "PT": "pt",
}
VENUE_SHARE = 0.1  # of companies, a venue with no legal form (synth-16)
NUMBER_FIRST = {"UK", "US", "CA", "IE", "AU", "IN", "JP", "FR", "NZ"}

UNIT_PARTS = {
    "UK": ("Unit {n}", "Flat {n}", "Suite {n}", "Unit {n}{a}", "{ord} Floor"),
    "US": ("Ste {n}", "Suite {nn}", "Unit {n}{a}", "Building {a}", "Fl {n}", "Dock {n}"),
    "CA": ("Suite {nn}", "Unit {n}", "Bay {n}"),
    "IE": ("Unit {n}", "Apt {n}", "Block {a}"),
    "AU": ("Unit {n}", "Shop {n}", "Level {n}"),
    "IN": ("Plot {nn}", "Shop No. {n}", "Flat {nn}", "Godown {n}"),
    "DE": ("Halle {n}", "Tor {n}", "{n}. OG", "Hinterhaus"),
    "AT": ("Top {n}", "Stiege {n}"),
    "CH": ("{n}. Stock", "Halle {a}"),
    "FR": ("Bât. {a}", "Bâtiment {a}", "Local {n}"),
    "NL": ("unit {n}", "hal {a}"),
    "BE": ("bus {n}", "Hal {a}"),
    "IT": ("Capannone {n}", "Scala {a}"),
    "ES": ("Nave {n}", "Local {n}"),
    "PL": ("lok. {n}", "hala {a}"),
    "JP": ("{n}F",),
    "FI": ("B {n}", "as. {n}"),
    "SE": ("lgh {nn}", "port {n}"),
    "DK": ("{n}. th.", "st. tv."),
    "NO": ("bygg {a}", "port {n}"),
    "NZ": ("Unit {n}", "Level {n}"),
    "PT": ("{n}\u00ba Esq.", "Loja {n}"),
}
TITLE_WORDS = {"Mr", "Ms", "Mrs", "Herr", "Frau", "M", "Mme"}
ORDINALS = ("1st", "2nd", "3rd", "4th", "Ground")
NAMED_BUILDINGS = {"UK", "IE", "NZ", "AU", "US"}
# fmt: off
BUILDINGS = (
    "The Old Granary", "Riverside House", "Victoria Works", "Ashcroft Farm", "The Maltings", "Kingsgate House",
    "Beacon Court", "The Coach House", "Mill Yard", "Harbour Buildings", "Orchard Barn", "Enterprise Centre",
    "Station Yard", "The Forge", "Westgate Chambers",
)
# fmt: on


# Parts of real addresses that are no field of the record (contract rule 4): a district, suburb, neighbourhood or
# estate written after the street or on a line of its own (not the city, where a city is named), and a PO box beside
# the street (neither the street nor the postcode). {place} is another town of the country.
# fmt: off
DISTRICTS: dict[str, tuple[str, ...]] = {
    "en": ("{place} Industrial Estate", "{place} Business Park", "City Centre", "Old Town", "Downtown", "{place} North",
           "Industrial Area Phase {n}", "Riverside", "Harbourside", "Docklands", "Technology Park", "Airport Zone",
           "{place} East", "Sector {n}", "Block {a}", "{place} Village", "Midtown", "Uptown", "Westside",
           "Marina District", "{place} Heights", "Enterprise Zone"),
    "es": ("Centro", "Zona Industrial", "Col. {place}", "Colonia {place}", "Distrito {place}",
           "Polígono Industrial {place}", "Barrio {place}", "Centro Histórico", "Parque Industrial {place}"),
    "pt": ("Centro", "Bairro {place}", "Vila {place}", "Zona Industrial", "Distrito Industrial {place}"),
    "it": ("Centro Storico", "Zona Industriale {place}", "Frazione {place}", "Località {place}", "Quartiere {n}"),
    "fr": ("Quartier {place}", "ZI de {place}", "ZA {place}", "Centre-ville", "Parc d'activités {place}",
           "Arrondissement {n}"),
    "de": ("Altstadt", "Gewerbegebiet {place}", "Industriegebiet Nord", "Stadtteil {place}", "Ortsteil {place}",
           "Gewerbepark {place}"),
    "nl": ("Wijk {place}", "Bedrijventerrein {place}", "Centrum", "Industrieterrein {place}"),
    "pl": ("Osiedle {place}", "Dzielnica {place}", "Strefa Przemysłowa", "Centrum"),
}
PO_BOXES = (
    "P.O. Box {n}", "PO Box {n}", "Box {n}", "Postfach {n}", "BP {n}", "B.P. {n}", "Apartado {n}",
    "Apartado de Correos {n}", "Casella postale {n}", "Postbus {n}", "Caixa Postal {n}", "Boîte postale {n}",
    "Private Bag {n}", "Locked Bag {n}", "POB {n}", "Postboks {n}",
)
# fmt: on


@dataclass
class Address:
    street: str | None
    city: str | None
    region: str | None
    postcode: str | None
    country: str | None
    unit_first: bool = False  # the unit part stands before the house number (a "Unit 4, 22 Mill Lane" street)
    district: str | None = None  # written, but no field (DISTRICTS)
    po_box: str | None = None  # written, but no field (PO_BOXES)


def person(p: Picker, country: Country, style: str | None = None) -> str:
    """A person's name as a note might write it: first name, full name, or title and surname."""
    lang = NAME_LANG.get(country.code, "en") if p.chance(0.8) else "en"
    first, last = p.one(FIRST_NAMES[lang]), p.one(SURNAMES[lang])
    if country.world is not None and p.chance(0.8):
        lang = country.language
        first, last = p.one(country.world.first_names), p.one(country.world.surnames)
    style = style or p.weighted((("first", 3), ("full", 5), ("title", 1), ("initial", 1)))
    if country.world is not None and country.world.name_order != "{first} {last}" and lang == country.language:
        return last if style == "title" else country.world.name_order.format(first=first, last=last)
    if style == "first":
        return first
    if style == "title":
        title = {"de": ("Herr", "Frau"), "fr": ("M.", "Mme")}.get(lang, ("Mr", "Ms", "Mrs", "Mr.", "Ms."))
        return f"{p.any(title)} {last}"
    if style == "initial":
        return f"{first[0]}. {last}"
    return f"{first} {last}"


def distinct_person(p: Picker, country: Country, taken: set[str], style: str | None = None) -> str:
    """A person whose first name and surname differ from every name already in ``taken``; adds its words."""

    def words(name: str) -> set[str]:
        return set(name.replace(".", "").split()) - TITLE_WORDS

    name = person(p, country, style)
    for _ in range(30):
        if not words(name) & taken:
            break
        name = person(p, country, style)
    taken.update(words(name))
    return name


def company(p: Picker, country: Country, trades: tuple[str, ...] = COMPANY_TRADES, venues: bool = False) -> str:
    """A company (or institution) name with the country's legal forms; with ``venues`` (synth-16's scenarios, not
    the disjoint family), now and then a venue with none (``slmq.training.notegen.venues``)."""
    if p.chance(0.08):
        return p.one(INSTITUTIONS)
    if venues and p.chance(VENUE_SHARE):
        lang, w = NAME_LANG.get(country.code, "en"), country.world
        first, last = (w.first_names, w.surnames) if w else (FIRST_NAMES[lang], SURNAMES[lang])
        return venue(p, country, p.one(first), p.one(last))
    if country.world is not None and (p.chance(0.6) or country.code not in LEGAL_FORMS):
        return p.one(country.world.companies)
    head = p.one(COMPANY_HEADS) if p.chance(0.75) else p.one(SURNAMES[NAME_LANG.get(country.code, "en")])
    trade = p.one(trades)
    form = p.any(LEGAL_FORMS[country.code])
    if p.chance(0.15):
        return f"{head} & {p.one(SURNAMES['en'])} {form}".strip()
    return f"{head} {trade} {form}".strip()


def phone(p: Picker, country: Country) -> str:
    return p.digits(p.any(country.phones))


def with_extras(p: Picker, a: Address, place: Callable[[], str], language: str) -> Address:
    """``a`` with, sometimes, a district (in ``language``'s words, else English; ``place`` draws a town of the
    country for it) and a PO box written beside it; neither repeats a part of the address."""
    parts = [value for value in (a.street, a.city, a.region, a.postcode, a.country) if value]
    pool = DISTRICTS.get(language, DISTRICTS["en"])
    for _ in range(5):
        if not p.chance(0.14):
            break
        district = p.one(pool).format(place=place(), n=p.between(1, 12), a=p.any("ABCDEFGH"))
        if not any(part in district or district in part for part in parts):
            a.district = district
            break
    if p.chance(0.06):
        a.po_box = p.one(PO_BOXES).format(n=p.digits(p.any(("ddd", "dddd", "ddddd", "dd"))))
    return a


def world_address(p: Picker, w: World, language: str, extras: bool) -> Address:
    """An address of a faker locale's country: its street as the locale writes it, a town, region and postcode."""
    street = p.one(w.streets)
    unit_first = False
    if w.units and p.chance(0.15):
        unit, unit_first = p.one(w.units), p.chance(0.3)
        street = f"{unit}, {street}" if unit_first else f"{street}, {unit}"
    in_format = any(part.field == "region" for line in w.lines for part in line)
    region = p.one(w.regions) if w.regions and p.chance(0.85 if in_format else 0.15) else None
    written = Address(
        street if p.chance(0.97) else None,
        p.one(w.towns),
        region,
        p.one(w.postcodes) if w.postcodes and p.chance(0.92) else None,
        p.weighted(tuple((name, 3 if i == 0 else 1) for i, name in enumerate(w.names))) if p.chance(0.4) else None,
        unit_first,
    )
    if w.wards_inside:  # a ward between the city and the street, no PO box
        ward = w.districts and extras and not (written.city or "").endswith("区") and p.chance(0.5)
        written.district = p.one(w.districts) if ward else None
        return written
    return with_extras(p, written, lambda: p.one(w.towns), language) if extras else written


def address(p: Picker, country: Country, extras: bool = False) -> Address:
    """A delivery address of ``country`` with a random choice of which optional parts are written; with ``extras``
    (the train and held-out splits since delivery_note-synth-14; the disjoint family's notes stay as they were), also
    a district and a PO box now and then."""
    if country.world is not None:
        return world_address(p, country.world, country.language, extras)
    town, region, pattern = p.one(country.towns)
    street_name = p.one(country.streets)
    postcode = "".join(p.any("ABCDEFGHJKLMNPRSTUWXYZ") if c == "@" else c for c in p.digits(pattern))
    if country.code == "US" and p.chance(0.1):
        postcode += p.digits("-dddd")  # ZIP+4
    number = str(p.weighted(((p.between(1, 99), 6), (p.between(100, 2999), 3), (p.between(1, 9), 2))))
    if p.chance(0.08) and country.code in {"UK", "US", "IE", "AU", "CA"}:
        number += p.any("ABab")
    if country.code == "IN" and p.chance(0.4):
        number = f"{p.between(1, 12)}-{p.between(1, 9)}-{p.between(1, 400)}"
    if country.code == "JP":
        number = f"{p.between(1, 5)}-{p.between(1, 20)}-{p.between(1, 30)}"
    if country.code in NUMBER_FIRST:
        sep = ", " if country.code == "FR" and p.chance(0.2) else " "
        street = f"{number}{sep}{street_name}"
    else:
        street = f"{street_name} {number}"
    if country.code in NAMED_BUILDINGS and p.chance(0.1):
        building = p.one(BUILDINGS)
        street = p.any((street_name, building, f"{building}, {street_name}"))
    unit_first = False
    if p.chance(0.22) and any(char.isdigit() for char in street):
        unit = p.any(UNIT_PARTS[country.code]).format(
            n=p.between(1, 24), nn=p.between(100, 450), a=p.any("ABCDEF"), ord=p.any(ORDINALS)
        )
        unit_first = p.chance(0.5) if country.code not in {"US", "CA", "DE", "AT", "CH", "PL"} else False
        street = f"{unit}, {street}" if unit_first else f"{street}, {unit}"
    written_region = region if region and p.chance(0.55) else None
    if country.code in {"US", "CA", "AU"} and region:
        written_region = region if p.chance(0.92) else None
    country_name = p.any(country.names) if p.chance(0.3) else None
    written_postcode = postcode if p.chance(0.92) else None
    written = Address(
        street if p.chance(0.97) else None, town, written_region, written_postcode, country_name, unit_first
    )
    return with_extras(p, written, lambda: p.one(country.towns)[0], country.language) if extras else written


def render_address(p: Picker, a: Address, country: Country, multiline: bool) -> str:
    """The address as written in the note, one line or several, in the country's order of parts, with its district
    and PO box where it has them."""
    written = _render_parts(p, a, country, multiline)
    street = a.street or ""
    inside = country.world is not None and country.world.wards_inside
    for extra in (None if inside else a.district, a.po_box):
        if extra is None:
            continue
        at = written.find(street) if street else -1
        if at < 0:  # no street written as such: the extra part first
            written = extra + ("\n" if multiline else ", ") + written
            continue
        end = at + len(street)
        own_line = multiline and p.chance(0.5)
        written = written[:end] + ("\n" if own_line else p.any((", ", " - ", ", "))) + extra + written[end:]
    return written


def _render_parts(p: Picker, a: Address, country: Country, multiline: bool) -> str:
    assert a.city is not None
    if country.world is not None:
        values = {"street": a.street, "city": a.city, "region": a.region, "postcode": a.postcode, "country": a.country}
        return world.render(p, country.world, values | {"district": a.district}, multiline)
    code = country.code
    city_line: str
    if code in {"US", "CA", "AU"}:
        comma = "," if code != "AU" and p.chance(0.8) else ""
        tail = " ".join(x for x in (a.region, a.postcode) if x)
        city_line = f"{a.city}{comma} {tail}" if tail else a.city
    elif code in {"UK", "IE"}:
        parts = [a.city] + ([a.region] if a.region else [])
        city_line = ", ".join(parts)
        if a.postcode:
            city_line += p.any((" ", ", ")) + a.postcode
    elif code == "IN":
        city_line = a.city + (f", {a.region}" if a.region else "")
        if a.postcode:
            city_line += p.any((" ", " - ", "-", " ")) + a.postcode
    elif code == "JP":
        city_line = a.city + (f", {a.region}" if a.region else "") + (f" {a.postcode}" if a.postcode else "")
    elif code == "IT":
        city_line = " ".join(x for x in (a.postcode, a.city, a.region) if x)
    else:
        city_line = " ".join(x for x in (a.postcode, a.city) if x)
        if a.region:
            city_line += p.any((", ", " ")) + a.region
    lines = [a.street, city_line] if a.street else [city_line]
    if a.country:
        lines.append(a.country)
    if multiline:
        if a.street and a.unit_first and ", " in a.street and p.chance(0.5):
            unit, rest = a.street.split(", ", 1)
            lines = [unit, rest, *lines[1:]]
            a.street, a.unit_first = f"{unit} {rest}", False  # the gold span across the line break, collapsed
        return "\n".join(lines)
    if a.street and p.chance(0.06):  # "1039 Industrial Court Suwanee, ..." with no comma after the street
        return " ".join(lines[:2]) + "".join(", " + line for line in lines[2:])
    if p.chance(0.03):  # no commas at all, as forms often print it; the street span loses its comma too
        a.street = a.street.replace(", ", " ") if a.street else None
        return " ".join(line.replace(", ", " ") for line in lines)
    return ", ".join(lines)
