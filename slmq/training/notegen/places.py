"""Invented but plausible places per country: the hand-written countries (europe.py, overseas.py) with their
weights, and the countries drawn from faker locales (world.py)."""

from functools import cache

from slmq.training.notegen.country import Country
from slmq.training.notegen.europe import AT, BE, CH, DE, DK, ES, FI, FR, IE, IT, NL, NO, PL, PT, SE, UK
from slmq.training.notegen.overseas import AU, CA, IN, JP, NZ, US
from slmq.training.notegen.world import BORROWED, EAST_ASIA, LOCALES, world

__all__ = ["COUNTRIES", "COUNTRY_WEIGHTS", "Country", "country_choices", "world_countries"]

# fmt: off
COUNTRIES: tuple[Country, ...] = (
    UK, US, CA, DE, AT, CH, FR, NL, BE, IT, ES, PL, IE, AU, IN, JP, FI, SE,
    DK, NO, NZ, PT,
)
COUNTRY_WEIGHTS: dict[str, float] = {
    "UK": 5, "US": 5, "CA": 1.5, "DE": 3, "AT": 1, "CH": 1, "FR": 2, "NL": 1.5, "BE": 0.7,
    "IT": 1.2, "ES": 1.2, "PL": 1, "IE": 1.2, "AU": 1.5, "IN": 1.5, "JP": 0.8, "FI": 0.7,
    "SE": 0.7, "DK": 0.6, "NO": 0.6, "NZ": 0.8, "PT": 0.7,
}
# fmt: on


WORLD_SHARE = 0.5  # of the notes, those addressed to a country drawn from a faker locale


@cache
def world_countries() -> tuple[Country, ...]:
    """One country per faker locale of ``slmq.training.notegen.world`` (built on first use: faker loads slowly)."""
    countries = []
    for key in (*LOCALES, *EAST_ASIA, *BORROWED):
        w = world(key)
        language = (BORROWED[key][1] if key in BORROWED else key).split("_")[0]
        countries.append(Country(w.code, w.names, (), (), w.phones, language, w))
    return tuple(countries)


@cache
def country_choices() -> tuple[tuple[Country, float], ...]:
    """Every country with its weight: the hand-written ones by COUNTRY_WEIGHTS, the locales' evenly."""
    hand = tuple((c, COUNTRY_WEIGHTS[c.code]) for c in COUNTRIES)
    total = sum(weight for _, weight in hand)
    drawn = world_countries()
    share = total * WORLD_SHARE / (1 - WORLD_SHARE) / len(drawn)
    # East Asian scripts twice as often: a tagger reads their addresses' parts with no space between them
    return hand + tuple((c, share * (2 if c.world and c.world.wards_inside else 1)) for c in drawn)
