"""Consignees that are no company (synth-16): museums, theatres, town halls, hotels, clinics, stadiums, universities.

Named after a town of the delivery's country or a surname of its locale, in the country's language, with no legal
form to give them away; a few are bare acronyms. Invented from patterns: no real venue's name is in a pool.
"""

from collections.abc import Mapping

from slmq.training.notegen.country import Country
from slmq.training.notegen.picker import Picker

# fmt: off
VENUES: Mapping[str, tuple[str, ...]] = {
    "en": (
        "{town} Museum", "Museum of {town}", "{town} Art Gallery", "The {surname} Hotel", "{surname} Hall",
        "{town} Concert Hall", "{town} City Council", "University of {town}", "{town} General Hospital",
        "St {first}'s Church", "{town} Stadium", "{town} Public Library", "The {surname} Theatre",
        "{town} Cricket Club", "{surname} College", "{town} Aquarium", "The Grand {town}", "{town} Botanic Garden",
    ),
    "de": (
        "Museum {town}", "Stadttheater {town}", "Schloss {town}", "Universität {town}", "Klinikum {town}",
        "Kunsthalle {town}", "Rathaus {town}", "Stadtbibliothek {town}", "Hotel {surname}",
    ),
    "fr": (
        "Musée de {town}", "Théâtre de {town}", "Château de {town}", "Mairie de {town}", "Université de {town}",
        "Hôtel {surname}", "Médiathèque de {town}", "Centre hospitalier de {town}",
    ),
    "nl": ("Stadsschouwburg {town}", "Gemeente {town}", "Museum {surname}", "Bibliotheek {town}", "Hotel {surname}"),
    "es": (
        "Museo de {town}", "Teatro {surname}", "Palacio de {town}", "Estadio {surname}", "Ayuntamiento de {town}",
        "Universidad de {town}", "Hospital de {town}",
    ),
    "it": (
        "Museo Civico di {town}", "Teatro {surname}", "Fondazione {surname}", "Palazzo {surname}", "Comune di {town}",
        "Università di {town}", "Biblioteca civica di {town}",
    ),
    "pt": (
        "Museu de {town}", "Teatro {surname}", "Câmara Municipal de {town}", "Universidade de {town}",
        "Hospital de {town}",
    ),
    "pl": ("Teatr {surname}", "Fundacja {surname}", "Hotel {surname}", "Filharmonia {surname}"),
    "sv": ("{town}s museum", "{town} konserthus", "{town} stadsbibliotek", "Hotell {surname}"),
    "da": ("{town} Museum", "{town} Rådhus", "Hotel {surname}"),
    "no": ("{town} museum", "{town} rådhus", "Hotell {surname}"),
    "cs": ("Hotel {surname}", "Divadlo {surname}"),
    "ja": ("{town}立美術館", "{town}民会館", "{surname}ホテル", "{town}体育館"),
    "zh": ("{town}博物馆", "{town}人民医院", "{town}大剧院", "{town}图书馆"),
    "ko": ("{town}립미술관", "{town}청", "{town} 문화예술회관"),
}
# fmt: on
ACRONYM = "ABCDEFGHIJKLMNOPRSTUVW"


def venue(p: Picker, country: Country, first: str, surname: str) -> str:
    """A venue of ``country`` named in its language (English where no pool has it), or now and then an acronym;
    ``first`` and ``surname`` are a name of the country, for the venues named after a person."""
    if p.chance(0.08):
        return "".join(p.any(ACRONYM) for _ in range(p.between(3, 5)))
    w = country.world
    tongue = w.locale.split("_")[0] if w else country.language
    pool = VENUES.get(tongue, VENUES["en"])
    pattern = p.one(pool)
    town = p.one(w.towns) if w else p.one(country.towns)[0]
    return pattern.format(town=town, surname=surname, first=first)
