"""Delivery dates as a day and a time window written together (synth-16), in the note's or the site's language;
and (synth-18) days as CLDR writes them in the site's locale.

"Friday 28 Nov, 08:00 - 12:00", "Dienstag, 4. März, zwischen 7 und 10 Uhr", "el 3/6, por la mañana": one span, as the
contract counts it. Until synth-16 a date was one pattern, so a tagger took the day or the window, seldom both. The
hand-written pools know a dozen languages; babel's CLDR data writes a day the way a booking system or a printed form
of any locale does ("2026年3月4日(水)", "4 de mar. de 2026", "Mi., 4.3.", "Wed, 3/4 08:00 - 12:00").
"""

import re
from collections.abc import Mapping
from datetime import date, time

from slmq.training.notegen.country import Country
from slmq.training.notegen.phrases import MONTHS_LOCAL, WEEKDAYS_LOCAL, fill
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.world import require_train_extra

# fmt: off
WEEKDAYS: Mapping[str, tuple[str, ...]] = {
    **WEEKDAYS_LOCAL,
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"),
    "pt": ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"),
    "pl": ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota"),
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"),
    "da": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"),
    "no": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"),
}
MONTHS: Mapping[str, tuple[str, ...]] = {
    **MONTHS_LOCAL,
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "septiembre", "octubre", "noviembre"),
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "settembre", "ottobre"),
    "pt": ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "setembro", "outubro"),
}
DAYS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "{wd} {d} {mon}", "{wds} {d} {mons}", "{d} {mon} {yyyy}", "{dd}/{mm}/{yyyy}", "{d}-{mons}-{yyyy}", "tomorrow",
        "{wd}", "{wd} the {d}{th}", "{mons} {d}", "{wds} {dd}.{mm}.",
    ),
    "de": ("{wdx}, {d}. {monx}", "{wdx}, {d}.{m}.{yyyy}", "am {d}.{m}.", "morgen", "{wdx}", "{wdx} den {d}.{m}."),
    "fr": ("{wdx} {d} {monx}", "{wdx} {d} {monx} {yyyy}", "le {d}/{m}", "demain", "{wdx}"),
    "nl": ("{wdx} {d} {monx}", "{d}-{m}-{yyyy}", "morgen", "{wdx}"),
    "es": ("{wdx} {d} de {monx}", "el {d}/{m}", "pasado mañana", "el {wdx}"),
    "it": ("{wdx} {d} {monx}", "il {d}/{m}", "dopodomani", "{wdx}"),
    "pt": ("{wdx}, {d} de {monx}", "dia {d}/{m}", "amanhã", "na {wdx}"),
    "pl": ("{wdx} {d}.{mm}", "jutro", "w {wdx}"),
    "sv": ("{wdx} {d}/{m}", "i morgon", "på {wdx}"),
    "da": ("{wdx} d. {d}/{m}", "i morgen", "på {wdx}"),
    "no": ("{wdx} {d}.{m}.", "i morgen", "på {wdx}"),
}
WINDOWS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "{hh}:00 - {hh2}:00", "{hh}-{hh2}am", "between {hh} and {hh2}", "({hh}:00-{hh2}:00)", "by {h}:30 at the latest",
        "from {hh}:00", "before {h}am", "{h}am sharp", "AM", "after {hh}:00", "{hh}.30-{hh2}.30", "pm only",
    ),
    "de": (
        "zwischen {hh} und {hh2} Uhr", "{hh}:00\u2013{hh2}:00 Uhr", "ab {hh} Uhr", "bis {h}:30 Uhr", "vormittags",
        "ab mittags",
    ),
    "fr": (
        "entre {hh}h et {hh2}h", "{hh}h30 - {hh2}h", "avant {h}h", "à partir de {hh}h", "dans la matinée",
        "l'après-midi",
    ),
    "nl": ("tussen {hh} en {hh2} uur", "vóór {h}:00", "vanaf {hh}:00", "in de ochtend"),
    "es": (
        "entre las {hh} y las {hh2}", "hasta las {h}", "a partir de las {hh}", "por la mañana", "antes del mediodía",
    ),
    "it": ("tra le {hh} e le {hh2}", "entro le {h}.30", "dalle {hh}", "in mattinata", "nel pomeriggio"),
    "pt": ("entre as {hh}h e as {hh2}h", "até às {h}h", "de manhã", "a partir das {hh}h"),
    "pl": ("między {hh} a {hh2}", "do godz. {h}", "od {hh}:00", "rano"),
    "sv": ("mellan {hh} och {hh2}", "före kl. {h}", "från kl. {hh}", "på förmiddagen"),
    "da": ("mellem kl. {hh} og {hh2}", "inden kl. {h}", "fra kl. {hh}", "om formiddagen"),
    "no": ("mellom kl. {hh} og {hh2}", "før kl. {h}", "fra kl. {hh}", "på formiddagen"),
}
# fmt: on
JOINERS = (", ", " ", " - ", ", ", " ")
# CLDR's date widths and skeletons (https://cldr.unicode.org/translation/date-time/date-time-patterns)
CLDR_WIDTHS = ("full", "long", "medium", "short")
CLDR_SKELETONS = ("MMMEd", "MEd", "yMMMd", "MMMd", "Md", "yMd", "yMMMEd", "MMMMd", "EEEEd")
CLDR_HOURS = ("Hm", "Hm", "hm", "H", "h")
_MARKS = re.compile("[\u200e\u200f\u061c]")  # bidi marks CLDR puts in right-to-left dates: nobody types them
# A day, a month's name and a year joined by hyphens ("04-Feb-2027", en_PK's medium date) is how the template-disjoint
# family's documents print dates ("15-Sep-2025"): a CLDR date of that shape is written in the locale's long width.
_DISJOINT_SHAPE = re.compile(r"\d{1,2}-[^\W\d_]+\.?-\d{2,4}")


def day_and_window(p: Picker, tongue: str) -> str:
    """A day and a time window in ``tongue`` ("en" where no pool has it) as one delivery-date span."""
    tongue = tongue if tongue in DAYS else "en"
    day, window = p.one(DAYS[tongue]), p.one(WINDOWS[tongue])
    joiner = " " if window.startswith("(") else p.any(JOINERS)
    return _filled(p, day + joiner + window, tongue)


def _filled(p: Picker, pattern: str, tongue: str) -> str:
    """``pattern`` with phrases.fill's placeholders, weekday and month names in ``tongue``."""
    if tongue in WEEKDAYS and tongue not in WEEKDAYS_LOCAL:  # fill() itself knows de, fr and nl
        pattern = pattern.replace("{wdx}", p.any(WEEKDAYS[tongue]))
        if tongue in MONTHS:
            pattern = pattern.replace("{monx}", p.any(MONTHS[tongue]))
    return fill(p, pattern, tongue)


def cldr_date(p: Picker, locale: str) -> str:
    """A day as CLDR writes it in ``locale`` (babel), now and then with a time window, as one delivery-date span."""
    require_train_extra()
    from babel.dates import format_date, format_interval, format_skeleton

    day = date(p.between(2025, 2027), p.between(1, 12), p.between(1, 28))
    form = p.any(CLDR_WIDTHS + CLDR_SKELETONS)
    text = format_date(day, form, locale=locale) if form in CLDR_WIDTHS else format_skeleton(form, day, locale=locale)
    if _DISJOINT_SHAPE.fullmatch(text):
        text = format_date(day, "long", locale=locale)
    if p.chance(0.4):
        start = p.between(6, 15)
        hours = (time(start), time(min(start + p.between(1, 6), 23)))
        text += p.any(JOINERS) + format_interval(*hours, skeleton=p.any(CLDR_HOURS), locale=locale)
    text = _MARKS.sub("", text)
    return text if p.chance(0.2) else " ".join(text.split())  # CLDR's no-break spaces, mostly typed as spaces


def locale_of(country: Country, language: str) -> str:
    """The CLDR locale a site of ``country`` writing ``language`` uses: ``language_CODE`` where CLDR has it."""
    require_train_extra()
    from babel import Locale, UnknownLocaleError

    territory = "GB" if country.code == "UK" else country.code  # the generator's code for it; ISO 3166's is GB
    for name in (f"{language}_{territory}", *([country.world.locale] if country.world else []), language):
        try:
            return str(Locale.parse(name))
        except (UnknownLocaleError, ValueError):
            continue
    return "en"
