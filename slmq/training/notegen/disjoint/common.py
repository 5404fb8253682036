"""Pieces the disjoint layouts share: addresses written part by part, quantities, unit words and codes."""

from slmq.training.notegen.disjoint import wording
from slmq.training.notegen.disjoint.facts import Line
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.places import Country
from slmq.training.notegen.values import Address

POSTCODE_FIRST = {"DE", "AT", "CH", "FR", "NL", "BE", "IT", "ES", "PL", "FI", "SE", "DK", "NO", "PT"}
SEPARATORS = (" / ", " | ", "; ", " · ")


def town(a: Address, country: Country) -> str:
    """Town, region in brackets and postcode, in the country's order of postcode and town."""
    assert a.city is not None  # every drawn address names its town
    region = f" ({a.region})" if a.region else ""
    if country.code in POSTCODE_FIRST:
        return " ".join(x for x in (a.postcode, a.city + region) if x)
    return " ".join(x for x in (a.city + region, a.postcode) if x)


def address_lines(a: Address, country: Country) -> list[str]:
    return [x for x in (a.street, town(a, country), a.country) if x]


def one_line(p: Picker, a: Address, country: Country) -> str:
    return p.any(SEPARATORS).join(address_lines(a, country))


def digits(line: Line) -> str:
    """The quantity in figures, as the gold record's number reads."""
    return f"{line.quantity:g}" if isinstance(line.quantity, float) else str(line.quantity)


def spoken(line: Line) -> str:
    if isinstance(line.quantity, int) and line.quantity < 100:
        return wording.spoken_number(line.quantity)
    return digits(line)


def word(line: Line) -> str:
    """The unit as a word ("boxes", "kg"), or "" for a line written without one; sets the line's gold unit."""
    if line.unitless:
        return _none(line)
    return line.unit or ""


def uom(line: Line) -> str:
    """The unit as a warehouse code ("CTN", "PLT"), or "" for a line without one; sets the line's gold unit."""
    if line.unitless:
        return _none(line)
    line.unit = wording.UOM_CODES.get(line.plural, line.plural.upper())
    return line.unit


def _none(line: Line) -> str:
    line.unit = None
    return ""
