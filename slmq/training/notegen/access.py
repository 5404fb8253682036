"""Delivery instructions as sites write them (synth-16): one to three clauses, often naming a side street, a gate or
the contact to ask for, now and then in the site's own language inside an English note.

A clause names a street of the delivery's own country other than the address's, so a street name alone no longer
says "address": the tagger has to read the clause around it. A person an instruction names ("ask for Kenji") is the
contact, as real notes are labelled: the contact's name or number stands in a clause only when the scenario puts it
there, and the contract then fills both fields.
"""

import re
from collections.abc import Callable, Mapping

from slmq.training.notegen.country import Country
from slmq.training.notegen.phrases import INSTRUCTIONS_EN, INSTRUCTIONS_LOCAL
from slmq.training.notegen.picker import Picker

# fmt: off
STREET: Mapping[str, tuple[str, ...]] = {
    "en": (
        "goods entrance on {street}", "vehicle access from {street} only",
        "approach via {street}, the front is pedestrianised",
        "deliveries are taken at the {street} entrance", "turn off {street} into the service yard",
        "the yard gate is on {street}", "HGVs must not use {street}", "unload on {street}, the yard is too small",
        "park up on {street} and use the side door", "our stores are behind the building, enter from {street}",
        "the ramp is at the {street} end of the building",
        "follow {street} to the end, we are the last unit on the left",
        "lorries wait in the lay-by on {street}", "the {street} barrier opens from the gatehouse",
    ),
    "de": (
        "Zufahrt nur von {street}", "LKW bitte in {street} abstellen",
        "Wareneingang an der Rückseite, Zufahrt von {street}",
        "Tor an der {street} benutzen", "Entladung in {street}, der Hof ist zu eng", "Lieferverkehr über {street}",
    ),
    "fr": (
        "entrée des livraisons côté {street}", "les camions passent par {street}", "stationner {street} et sonner",
        "déchargement {street}, la cour est trop étroite", "portail de service sur {street}",
    ),
    "nl": (
        "inrit aan de {street}-zijde", "lossen op de {street}, de binnenplaats is te klein",
        "vrachtwagens via {street}", "achteringang aan {street}",
    ),
    "es": (
        "los camiones entran por {street}", "muelle de carga en {street}", "la entrada de servicio da a {street}",
        "aparcar en {street} y descargar por el lateral",
    ),
    "it": (
        "accesso dal cancello di {street}", "consegna dal retro, in {street}", "i camion sostano in {street}",
        "carico e scarico solo su {street}",
    ),
    "pt": ("entrada de serviço pela {street}", "os camiões param na {street}", "descarga pelo lado da {street}"),
    "pl": ("dojazd od strony {street}", "rozładunek przy {street}", "wejście towarowe przy {street}"),
    "sv": ("infart från {street}", "lossning sker på {street}", "godsmottagning mot {street}"),
    "da": ("indkørsel fra {street}", "aflæsning på {street}", "varemodtagelse mod {street}"),
    "no": ("innkjøring fra {street}", "lossing i {street}", "bruk porten i {street}"),
    "fi": ("sisäänajo {street} kautta", "purku {street} puolella"),
    "cs": ("vjezd z ulice {street}", "vykládka z ulice {street}", "zásobování z {street}"),
    "ja": (
        "{street}側の搬入口からお入りください", "搬入は{street}側からお願いします",
        "{street}沿いの通用口をご利用ください",
    ),
    "zh": ("请从{street}入口进入", "送货走{street}侧门", "货车从{street}进出"),
    "ko": ("{street} 쪽 출입구로 들어오세요", "납품은 {street} 쪽 후문으로 부탁드립니다"),
}
OTHER: Mapping[str, tuple[str, ...]] = {
    "en": (
        "security will issue a visitor badge",
        "photo ID needed at reception", "paperwork goes to the site office", "goods lift max {kg} kg",
        "if closed, leave with the neighbour at no. {n}", "up to the {ord} floor, room {room}",
        "to Stores, building {L}",
        "pre-book a slot with Goods In 24 hours ahead", "keep upright",
        "the leveller at bay {n} is out of order, use bay {n2}",
        "lorry park is full after 10, come early",
    ),
    "de": (
        "Anmeldung an der Pforte", "Lieferschein am Tor vorzeigen", "Rampe {n} benutzen",
        "Aufzug max. {kg} kg", "Sicherheitsschuhe erforderlich", "Fahrer muss sich mit Ausweis anmelden",
        "bei Abwesenheit beim Nachbarn abgeben", "nur mit Hubwagen",
    ),
    "fr": (
        "se présenter à l'accueil", "badge à retirer au poste de garde", "monte-charge au fond de la cour",
        "livraison au {ord_fr} étage", "chaussures de sécurité obligatoires", "prévenir le gardien", "porte {n}",
        "ne pas bloquer la sortie de secours",
    ),
    "nl": (
        "graag bij de portier melden", "goederenlift achterin", "laadperron {n}",
        "veiligheidsschoenen verplicht", "pakbon afgeven bij de balie",
    ),
    "es": (
        "montacargas al fondo", "el conductor debe traer el DNI",
        "dejar en conserjería si no hay nadie", "mercancía frágil, no apilar", "aparcamiento limitado, descarga rápida",
    ),
    "it": (
        "presentarsi in portineria", "baia di carico {n}",
        "montacarichi sul retro", "merce fragile, non sovrapporre", "lasciare in portineria se chiuso",
    ),
    "pt": ("apresentar-se na portaria", "doca {n}", "não empilhar", "deixar na portaria se estiver fechado"),
    "pl": ("zgłosić się na portierni", "dok {n}", "kierowca musi okazać WZ", "nie piętrować"),
    "sv": ("anmäl er i receptionen", "port {n}", "ej stapelbart", "godshissen finns på baksidan"),
    "da": ("meld jer i receptionen", "port {n}", "må ikke stables", "vareelevatoren er bagved"),
    "no": ("meld dere i resepsjonen", "port {n}", "må ikke stables"),
    "fi": ("ilmoittaudu vastaanottoon", "lastauslaituri {n}", "ei saa pinota"),
    "cs": ("hlaste se na vrátnici", "rampa {n}", "nestohovat"),
    "ja": ("裏口の搬入口をご利用ください", "{n}番ゲートからお入りください", "積み重ね厳禁"),
    "zh": ("{n}号门卸货", "易碎品，请勿堆放", "请走货梯"),  # noqa: RUF001
    "ko": ("경비실에 들러 주세요", "{n}번 게이트로 오세요"),
}
CONTACT: Mapping[str, tuple[str, ...]] = {
    "en": (
        "{name} in stores will check it in", "ask reception to page {name}", "{name} at the kiosk has the key",
        "give {name} a ring on {phone} when 10 min away", "message {phone} from the car park",
        "{name} ({phone}) has the key", "call {name} when you arrive", "phone {phone} and someone will come down",
    ),
    "de": (
        "nach {name} fragen", "{name} vom Lager nimmt die Ware an", "bitte {name} anrufen: {phone}",
        "vorher bei {name} melden", "bei Ankunft {phone} anrufen",
    ),
    "fr": (
        "demander {name}", "appeler {name} à l'arrivée", "prévenir {name} au {phone}",
        "téléphoner au {phone} 30 min avant",
    ),
    "nl": (
        "vraag naar {name}", "bel {name} bij aankomst", "bel {phone} als je voor de deur staat",
        "{name} tekent voor ontvangst",
    ),
    "es": (
        "avisar a {name} en recepción", "llamar a {name} al llegar", "avisar a {name} al {phone}",
        "llamar al {phone} 15 minutos antes",
    ),
    "it": (
        "chiedere di {name}", "citofonare a {name}", "avvisare {name} all'arrivo", "chiamare {name} al {phone}",
        "telefonare al {phone} prima di arrivare",
    ),
    "pt": ("perguntar pelo {name}", "ligar para {name} ao chegar", "avisar {name} pelo {phone}"),
    "pl": ("zapytać o {name}", "zadzwonić do {name} po przyjeździe", "prosimy o telefon {phone} przed przyjazdem"),
    "sv": ("fråga efter {name}", "ring {name} vid ankomst", "ring {phone} när ni är framme"),
    "da": ("spørg efter {name}", "ring til {name} ved ankomst", "ring {phone} når I er fremme"),
    "no": ("spør etter {name}", "ring {name} ved ankomst", "ring {phone} når dere er utenfor"),
    "fi": ("kysy {name}", "soita {name} saapuessasi", "soita numeroon {phone} ennen saapumista"),
    "cs": ("zeptejte se na {name}", "po příjezdu volejte {name}", "volejte {phone} před příjezdem"),
    "ja": ("受付で{name}を呼んでください", "到着時に{name}までお電話ください", "{phone}までご連絡ください"),
    "zh": ("请找{name}", "到了请打{phone}", "到达后联系{name}"),
    "ko": ("{name} 찾아주세요", "도착하면 {name}에게 전화 주세요", "{phone}로 연락 주세요"),
}
# fmt: on
OLD = {"en": INSTRUCTIONS_EN, **INSTRUCTIONS_LOCAL}  # the pre-synth-16 clauses
HANDLING = {tongue: OTHER[tongue] + OLD.get(tongue, ()) for tongue in OTHER}
SPOKEN = {"FI": "fi", "SE": "sv", "DK": "da", "NO": "no", "PT": "pt", "BE": "nl"}  # hand-written countries in English
UNIT_WORDS = re.compile(
    r"\b(?:Apt\.|Suite|Flat|Unit|Piso|Edif\.|Depto\.|Appartamento|Puerta|Stiege|Top)(?=\s|$)\s*\S*", re.I
)
NUMBER_SIGNS = {"N°", "No.", "#", "Nr.", "H.No."}
JOINERS = (". ", "; ", ", ", " - ", " — ", ". ")  # a full stop twice as often as each other
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th")


def language(country: Country) -> str:
    """The language a site in ``country`` writes its own instructions in ("en" where no pool has it)."""
    code = country.world.locale.split("_")[0] if country.world else SPOKEN.get(country.code, country.language)
    return code if code in STREET else "en"


def street_name(street: str) -> str:
    """``street`` as an instruction names it: no house number, unit or PO box ("Calle Mayor", "南昌路")."""
    head = UNIT_WORDS.sub("", street)
    if re.match(r"[\u3040-\u9fff\uac00-\ud7af]", head):  # CJK and Hangul: the name before its first number
        return re.split(r"[\s\d\uff10-\uff19]", head, maxsplit=1)[0]
    words = [w for w in re.split(r"[\s,]+", head) if w and not re.search(r"\d", w) and w not in NUMBER_SIGNS]
    return " ".join(words).strip(" ,.-")


def instructions(
    p: Picker, country: Country, lang: str, other_street: Callable[[], str], name: str | None, phone: str | None
) -> str:  # fmt: skip
    """One instructions span of one to three clauses.

    ``lang`` is the note's language; the site's own (``language(country)``) writes a clause now and then even in
    an English note. ``other_street`` draws a street of the country that is not the address's; ``name`` and
    ``phone`` (the contact's) go into one clause when given: a person an instruction names is the contact.
    """
    local = language(country)
    own = 0.8 if lang == local else 0.3 if local != "en" else 0.0
    count = p.weighted(((1, 45), (2, 38), (3, 17)))
    kinds = ["contact"] if name or phone else []
    while len(kinds) < count:
        kinds.append("street" if p.chance(0.45) and "street" not in kinds else "other")
    p.rng.shuffle(kinds)
    clauses: list[str] = []
    for kind in kinds:
        tongue = local if p.chance(own) else lang
        clause = _clause(p, kind, tongue, other_street, name, phone)
        if clause and clause.lower() not in " ".join(clauses).lower():
            clauses.append(clause)
    return _join(p, clauses or [_clause(p, "other", lang, other_street, None, None) or "leave with reception"])


def _clause(
    p: Picker, kind: str, tongue: str, other_street: Callable[[], str], name: str | None, phone: str | None
) -> str | None:  # fmt: skip
    if kind == "contact":
        patterns = [x for x in CONTACT[tongue] if ("{name}" not in x or name) and ("{phone}" not in x or phone)]
        return p.any(patterns).format(name=name, phone=phone) if patterns else None
    if kind == "street":
        street = other_street()
        return p.one(STREET[tongue]).format(street=street) if street else None
    pool = HANDLING[tongue]
    pattern = p.one(pool)
    while "{name}" in pattern or "{phone}" in pattern:  # old contact clauses: CONTACT has their kind
        pattern = p.one(pool)
    n = p.between(1, 9)
    return pattern.format(
        n=n, n2=n + 1, kg=p.any((500, 750, 1000, 1500)),
        ord=p.any(ORDINALS), ord_fr=p.any(("1er", "2e", "3e", "4e")), room=p.digits("dd"), L=p.any("ABCDEFGH"),
        code=p.digits("dddd"), h=p.between(6, 9),
    )  # fmt: skip


def _join(p: Picker, clauses: list[str]) -> str:
    run = clauses[0]
    for clause in clauses[1:]:
        cjk = run[-1] >= "\u3040" or clause[0] >= "\u3040"
        joiner = p.any(("。", "、")) if cjk and p.chance(0.7) else p.any(JOINERS)
        run += joiner + (clause[0].upper() + clause[1:] if joiner == ". " else clause)
    return run
