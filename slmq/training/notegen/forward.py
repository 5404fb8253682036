"""A note as it reaches the dispatch desk: forwarded once or twice by the supplier's own staff, the customer's
message below them, pasted under an "Original Message" header or quoted line by line (``> ``, sometimes
re-wrapped as mail clients do).

Everything the forwarders add (their names and addresses, the team they write to, their dates and remarks, their
signatures) is a distractor: none of it is the consignee, the contact, the address or the delivery date. Until
synth-15 a quoted message only ever held distractors (``layouts._quoted``), so a tagger learnt that quoted lines
are never the order.
"""

import re
import unicodedata
from dataclasses import dataclass

from slmq.training.notegen.phrases import fill
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.scenario import Scenario
from slmq.training.notegen.values import distinct_person, render_address


@dataclass(frozen=True)
class Headers:
    sender: str
    sent: str
    to: str
    subject: str
    forward: str  # the subject's prefix
    original: str  # the line above a pasted original
    wrote: str  # the line above a quoted original: {d} its date, {n} its author


# fmt: off
HEADERS = {
    "en": Headers("From:", "Sent:", "To:", "Subject:", "FW:", "-----Original Message-----", "On {d}, {n} wrote:"),
    "gmail": Headers("From:", "Date:", "To:", "Subject:", "Fwd:", "---------- Forwarded message ---------",
                     "On {d} {n} wrote:"),
    "de": Headers("Von:", "Gesendet:", "An:", "Betreff:", "WG:", "-----Ursprüngliche Nachricht-----",
                  "Am {d} schrieb {n}:"),
    "fr": Headers("De :", "Envoyé :", "À :", "Objet :", "TR :", "-------- Message d'origine --------",
                  "Le {d}, {n} a écrit :"),
    "nl": Headers("Van:", "Verzonden:", "Aan:", "Onderwerp:", "FW:", "-----Oorspronkelijk bericht-----",
                  "Op {d} schreef {n}:"),
    "es": Headers("De:", "Enviado:", "Para:", "Asunto:", "RV:", "-----Mensaje original-----", "El {d}, {n} escribió:"),
    "it": Headers("Da:", "Inviato:", "A:", "Oggetto:", "I:", "-----Messaggio originale-----", "Il {d} {n} ha scritto:"),
    "pt": Headers("De:", "Enviada em:", "Para:", "Assunto:", "ENC:", "-----Mensagem original-----",
                  "Em {d}, {n} escreveu:"),
    "da": Headers("Fra:", "Sendt:", "Til:", "Emne:", "VS:", "---------- Videresendt meddelelse ---------",
                  "Den {d} skrev {n}:"),
    "sv": Headers("Från:", "Skickat:", "Till:", "Ämne:", "VB:", "-----Ursprungligt meddelande-----",
                  "Den {d} skrev {n}:"),
    "pl": Headers("Od:", "Wysłano:", "Do:", "Temat:", "PD:", "-----Wiadomość oryginalna-----", "{d} {n} napisał(a):"),
}
# fmt: on
# fmt: off
HEADER_LANG = {  # the supplier's country -> the language of its mail client's headers
    "DE": "de", "AT": "de", "CH": "de", "FR": "fr", "BE": "fr", "NL": "nl", "ES": "es", "MX": "es", "AR": "es",
    "CO": "es", "CL": "es", "IT": "it", "PT": "pt", "BR": "pt", "DK": "da", "NO": "da", "SE": "sv", "PL": "pl",
}
# fmt: on
TLD = {"GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl", "IT": "it", "ES": "es", "AU": "com.au", "IE": "ie"}
STAMPS = (
    "{wds}, {d} {mons} {yyyy} at {hh}:{mm}", "{dd} {mon} {yyyy} {hh}:{mm}", "{wd}, {d} {mon} {yyyy} {hh}:{mm}",
    "{dd}/{mm}/{yyyy} {hh}:{mm}", "{dd}.{mm}.{yyyy} {hh}:{mm}", "{wd}, {mon} {d}, {yyyy} {h}:{mm} {ampm}",
)  # fmt: skip
TEAMS = ("Dispatch", "Planning", "Warehouse", "Transport", "Logistics", "Despatch team", "Orders", "Customer Service")
# fmt: off
REMARKS = {
    "en": (
        "Can someone book this in please?", "Please action.", "See below, can we fit this in?", "Pls process, thanks.",
        "FYI - new order from the customer.", "Over to you.", "Customer's order below.", "For the route planner.",
        "Please check stock and confirm to the customer.", "Can you pick this up?", "Another one for the list.",
        "Please arrange, they are a good customer.", "Forwarding as discussed.", "Is the van free for this one?",
        "See the customer's mail below.", "Please book transport.", "As per the thread below.", "Adding logistics.",
        "Pls confirm once booked.", "All printed and packed, ready to go.", "Can you sort this one?",
        "Please see below and reply to the customer directly.", "Looping in the warehouse.", "One more for you.",
    ),
    "de": ("Bitte einplanen.", "Kannst du das übernehmen?", "Zur Info und Bearbeitung.", "Siehe unten.",
           "Bitte Transport buchen, danke.", "Bitte kurz bestätigen, wenn gebucht."),
    "fr": ("Pour traitement, merci.", "Peux-tu gérer ?", "Voir ci-dessous.", "À planifier svp.",
           "Merci de confirmer au client."),
    "nl": ("Graag inplannen.", "Kun jij dit oppakken?", "Zie hieronder.", "Graag bevestigen aan de klant."),
    "es": ("Para gestionar, gracias.", "¿Lo puedes programar?", "Ver abajo.", "Por favor, confirmar al cliente."),
    "it": ("Da gestire, grazie.", "Puoi organizzare tu?", "Vedi sotto.", "Per favore conferma al cliente."),
    "pt": ("Para tratar, obrigado.", "Vê abaixo.", "Podes agendar?"),
    "da": ("Kan I tage den?", "Se nedenfor.", "Til behandling, tak."),
    "sv": ("Kan ni boka in den här?", "Se nedan.", "För åtgärd, tack."),
    "pl": ("Proszę o realizację.", "Zobacz poniżej.", "Proszę zaplanować."),
}
# fmt: on
SUBJECTS = ("Delivery", "New order", "Order", "Delivery request", "Order for delivery", "Re: delivery")


def forwarded(p: Picker, s: Scenario, note: str, values: list[str]) -> str | None:
    """``note`` forwarded by one or two of the supplier's staff, or None where something they would write
    collides with one of the gold ``values`` (a forwarder's town the delivery town, say)."""
    lang = HEADER_LANG.get(s.sender_country.code, "en") if p.chance(0.5) else p.any(("en", "gmail"))
    labels = HEADERS[lang]
    domain = _domain(s.sender, s.sender_country.code)
    people = (s.contact_name, s.sender_person, s.driver, s.supplier_first, s.consignee if s.consignee_person else None)
    taken = {word for name in people if name for word in name.split()}
    staff = [distinct_person(p, s.sender_country, taken, "full") for _ in range(p.weighted(((1, 3), (2, 2))))]
    subject, body = _subject_of(note)
    subject = subject or p.one(SUBJECTS)
    author = s.sender_person if s.sender_person != s.contact_name else None
    remarks = REMARKS.get(lang, REMARKS["en"]) if p.chance(0.7) else REMARKS["en"]
    added: list[str] = []  # everything the forwarders write, checked against the gold values
    messages = []
    for depth, person in enumerate(staff):  # newest first: each forwarded to the one before, the newest to a team
        to = staff[depth - 1] if depth and p.chance(0.7) else p.any(TEAMS)
        prefix = " ".join([labels.forward] * (len(staff) - depth))
        header = _header(p, labels, _address_of(p, person, domain), _address_of(p, to, domain), f"{prefix} {subject}")
        remark, signature = p.one(remarks), _signature(p, s, person)
        added += [header.rsplit("\n", 1)[0], remark, signature]  # its subject may repeat the note's reference
        messages.append("\n\n".join([f"{labels.original}\n{header}" if depth else header, remark, signature]))
    sender = _address_of(p, author, _domain(s.consignee or "orders", s.country.code)) if author else f"orders@{domain}"
    if p.chance(0.5) and not _across_lines(body, values):
        intro = labels.wrote.format(d=fill(p, p.any(STAMPS)), n=sender)
        original = f"{intro}\n{_quote(p, body, values)}"
    else:
        intro = f"{labels.original}\n{_header(p, labels, sender, _address_of(p, staff[-1], domain), subject)}"
        original = f"{intro}\n\n{body}"
    added.append(intro.rsplit("\n", 1)[0] if intro.startswith(labels.original) else intro)
    if any(_stands_in(value, "\n".join(added)) for value in values):
        return None
    return "\n\n".join([*messages, original])


def _subject_of(note: str) -> tuple[str | None, str]:
    """The subject of a note written as an e-mail (its ``Sent:``/``Date:`` line goes with it), and the rest."""
    lines = note.split("\n")
    head = [line for line in lines[:3] if re.match(r"(Subject|Sent|Date): ", line)]
    if not any(line.startswith("Subject: ") for line in head):
        return None, note
    subject = next(line for line in head if line.startswith("Subject: ")).removeprefix("Subject: ")
    return subject, "\n".join(lines[len(head) :]).lstrip("\n")


def _header(p: Picker, labels: Headers, sender: str, to: str, subject: str) -> str:
    date = fill(p, p.any(STAMPS))
    return f"{labels.sender} {sender}\n{labels.sent} {date}\n{labels.to} {to}\n{labels.subject} {subject}"


def _address_of(p: Picker, name: str, domain: str) -> str:
    """A person or team as a mail header names them: the name, the name and address, or the address."""
    local = ".".join(_ascii(word) for word in name.split()[:2] if _ascii(word)) or p.any(("info", "office", "sales"))
    email = f"{local}@{domain}"
    return p.weighted(((name, 2), (f"{name} <{email}>", 3), (f"'{name}' <{email}>", 1), (email, 1)))


def _signature(p: Picker, s: Scenario, person: str) -> str:
    """The forwarder's first name, or a signature block with the supplier's address and phone (distractors)."""
    if p.chance(0.6):
        return person.split()[0]
    name = f"{person} | {s.title}" if p.chance(0.5) else person
    company = s.sender
    if p.chance(0.5):
        company = f"{company} | {render_address(p, s.sender_address, s.sender_country, False)}"
    return f"{name}\n{company} | {s.sender_phone}"


def _quote(p: Picker, body: str, values: list[str]) -> str:
    """``body`` quoted line by line, sometimes re-wrapped first (never inside a gold value)."""
    if p.chance(0.4):
        body = "\n".join(_wrap(line, values, p.between(60, 76)) for line in body.split("\n"))
    return "\n".join(f"> {line}" if line.strip() else ">" for line in body.split("\n"))


def _wrap(line: str, values: list[str], width: int) -> str:
    """``line`` broken at spaces into lines of at most ``width`` characters where it can, never inside a value."""
    keep = [False] * len(line)
    for value in values:
        for match in re.finditer(_pattern(value), line):
            keep[match.start() : match.end()] = [True] * (match.end() - match.start())
    out, start = [], 0
    while len(line) - start > width:
        cut = next((i for i in range(start + width, start, -1) if line[i] == " " and not keep[i]), None)
        if cut is None:
            break
        out.append(line[start:cut])
        start = cut + 1
    return "\n".join([*out, line[start:]])


def _domain(company: str, code: str) -> str:
    slug = "".join(_ascii(word) for word in company.split()[:2]) or "mail"
    return f"{slug}.{TLD.get(code, 'com')}"


def _ascii(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower())


def _pattern(value: str) -> str:
    return r"\s+".join(map(re.escape, value.split()))


def _stands_in(value: str, text: str) -> bool:
    return re.search(rf"(?<!\w){_pattern(value)}(?!\w)", text) is not None


def _across_lines(text: str, values: list[str]) -> bool:
    """Whether a value stands over a line break in ``text`` (quoting would put a ``>`` inside it)."""
    return any("\n" in match.group() for value in values for match in re.finditer(_pattern(value), text))
