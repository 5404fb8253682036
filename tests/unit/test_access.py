"""synth-16's instructions, dates, venues and item variants, synth-17's signers and footers: what real notes write
and synth-15 never did."""

import re

import pytest

from slmq.training.notegen import access, generate, when
from slmq.training.notegen.goods import QUALIFIERS
from slmq.training.notegen.phrases import FORM_FOOTERS_LOCAL
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.places import COUNTRIES, world_countries
from slmq.training.notegen.values import company
from slmq.training.notegen.venues import VENUES


@pytest.fixture(scope="module")
def notes() -> list[dict]:
    return list(generate(600, seed=23, split="train"))


def _fixed_words(patterns: tuple[str, ...]) -> list[str]:
    """Each pattern's longest run of text between placeholders: what marks a clause as written from it."""
    return [max(re.split(r"\{\w+\}", pattern), key=len).strip(" ,.") for pattern in patterns]


@pytest.mark.parametrize(
    ("street", "name"),
    [
        ("Flat 43Q Sarah Throughway", "Sarah Throughway"),
        ("Camino Lorenza Narváez 6 Piso 6", "Camino Lorenza Narváez"),
        ("Jl. Ahmad Yani No. 47", "Jl. Ahmad Yani"),
        ("85, rue Françoise Berthelot", "rue Françoise Berthelot"),
        ("南昌路831号 10号楼", "南昌路"),
        ("개포길 981", "개포길"),
    ],
)
def test_an_instruction_names_a_street_without_its_number_or_unit(street: str, name: str) -> None:
    assert access.street_name(street) == name


def test_instructions_run_to_several_clauses_name_side_streets_and_mix_in_the_site_s_language() -> None:
    # Given 300 instructions for a Spanish site, written in English notes, with a side street to name
    spain = next(c for c in world_countries() if c.world and c.world.locale == "es_ES")
    p = Picker("access", "train")
    runs = [access.instructions(p, spain, "en", lambda: "Calle del Pez", None, None) for _ in range(300)]
    spanish = [words for kind in (access.STREET, access.OTHER) for words in _fixed_words(kind["es"])]
    # Then many have two or three clauses, a fair share names the side street, and some clauses are Spanish
    assert sum(bool(re.search(r"[.;,]\s|\s[-—]\s", run)) for run in runs) > 100
    assert 50 < sum("Calle del Pez" in run for run in runs) < 250
    assert 30 < sum(any(words in run for words in spanish) for run in runs) < 200
    # And an English site's instructions stay English
    uk = next(c for c in COUNTRIES if c.code == "UK")
    english = [access.instructions(p, uk, "en", lambda: "Mill Lane", None, None) for _ in range(100)]
    assert not any(words in run for run in english for words in spanish)


def test_an_instruction_never_names_the_delivery_street_and_some_carry_the_contact_s_number(notes: list[dict]) -> None:
    # Given the generated notes with instructions
    golds = [note["gold"] for note in notes if note["gold"]["instructions"]]
    assert len(golds) > 300
    for gold in golds:
        street = gold["address"]["street"]
        # Then the delivery address's street is never the street an instruction names
        assert not street or street not in gold["instructions"], gold
    # And some instructions carry the contact's name or number (the contract then fills both fields)
    assert sum((g["contact_phone"] or "\0") in g["instructions"] for g in golds) > 10


def test_some_consignees_are_venues_and_the_disjoint_family_draws_none() -> None:
    # Given 2,000 consignees of scenarios (venues allowed) and 2,000 of the disjoint family's call (not)
    countries = world_countries()
    p = Picker("venues", "train")
    with_venues = [company(p, countries[i % len(countries)], venues=True) for i in range(2000)]
    without = [company(p, countries[i % len(countries)]) for i in range(2000)]
    fixed = [words for pool in VENUES.values() for words in _fixed_words(pool) if len(words) > 3]

    def venue_like(name: str) -> bool:
        return any(words in name for words in fixed)

    # Then about a tenth more of the scenarios' consignees are venues (companies have hotels among their trades)
    extra = sum(map(venue_like, with_venues)) - sum(map(venue_like, without))
    assert 100 < extra < 400
    # And every venue has a name of its own: none is a pattern left unfilled
    assert not [name for name in with_venues if "{" in name]


def test_some_item_descriptions_end_in_a_variant(notes: list[dict]) -> None:
    variants = {q for pool in QUALIFIERS.values() for q in pool}
    descriptions = [item["description"] for note in notes for item in note["gold"]["items"]]
    ending = [d for d in descriptions if re.split(r", | - | \(", d)[-1].rstrip(")") in variants]
    assert len(ending) > 0.08 * len(descriptions)


def test_a_day_and_a_window_make_one_date_span_in_the_language_asked_for() -> None:
    p = Picker("dates", "train")
    for tongue in ("en", "de", "fr", "nl", "es", "it", "pt", "pl", "sv", "da", "no", "ja"):
        for _ in range(30):
            date = when.day_and_window(p, tongue)
            # Then every placeholder is filled, and the window's words are the language's own (English for ja)
            assert "{" not in date and "}" not in date
            windows = _fixed_words(when.WINDOWS.get(tongue, when.WINDOWS["en"]))
            assert any(words in date for words in windows if words), (tongue, date)


def test_some_delivery_dates_are_a_day_with_a_window(notes: list[dict]) -> None:
    dates = [note["gold"]["delivery_date"] for note in notes if note["gold"]["delivery_date"]]
    windows = [words for pool in when.WINDOWS.values() for words in _fixed_words(pool)]
    days = ("tomorrow", "morgen", "demain", *[d for pool in when.WEEKDAYS.values() for d in pool], "day", "/")
    both = [d for d in dates if any(w in d for w in windows if len(w) > 3) and any(x in d.lower() for x in days)]
    assert len(both) > 0.1 * len(dates)


def test_a_customer_who_signs_is_the_contact_now_and_then_by_first_name_alone(notes: list[dict]) -> None:
    signed = [note for note in notes if "signer_is_contact" in note["tags"]]
    assert len(signed) > 10
    for note in signed:
        # Then the contact's name stands on a line of its own in the signature (quoted, if the note was forwarded)
        lines = [re.sub(r"^[>\s]+", "", line).strip() for line in note["text"].splitlines()]
        assert note["gold"]["contact_name"] in lines, note["id"]
    # And some sign with their first name alone (a Latin-script name of one word: a Chinese full name is one too)
    assert sum(bool(re.fullmatch(r"[A-Za-zÀ-ÿ'-]+", note["gold"]["contact_name"])) for note in signed) >= 3


def test_some_forms_end_in_a_footer_of_the_site_s_language_that_is_no_value(notes: list[dict]) -> None:
    footers = {footer for pool in FORM_FOOTERS_LOCAL.values() for footer in pool}
    footed = [note for note in notes if note["text"].splitlines()[-1] in footers]
    assert len(footed) > 3
    for note in footed:
        assert note["text"].splitlines()[-1] not in (note["gold"]["instructions"] or ""), note["id"]
