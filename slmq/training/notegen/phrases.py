"""Delivery dates, references, instructions and the distractors that look like them."""

from slmq.training.notegen.picker import Picker

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WD_SHORT = ("Mon", "Tue", "Tues", "Wed", "Thu", "Thurs", "Fri", "Sat")
# fmt: off
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
)
# fmt: on
MON_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec")
WEEKDAYS_LOCAL = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"),
}
MONTHS_LOCAL = {
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "septembre", "octobre", "novembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober"),
}

# fmt: off
DATE_PATTERNS_EN: tuple[str, ...] = (
    "{wd} {d} {mon}", "{wds} {d} {mons}, {h}-{h2}{ampm}", "before {wd} {h}{ampm}", "{wd} morning", "{wd} pm", "ASAP",
    "asap", "tomorrow", "tomorrow morning", "tomorrow between {h} and {h2}", "next {wd}", "next {wdl}",
    "this {wd} afternoon", "by end of day {wd}", "{dd}/{mm}/{yyyy}", "{d}.{m}.{yyyy}, {hh}:00\u2013{hh2}:00",
    "{mon} {d}", "w/c {d} {mon}", "week commencing {d} {mon}", "between {h}{ampm} and {h2}{ampm} on {wd}",
    "any time after {h}{ampm}", "{wd} latest", "no later than {wd} {d} {mon}", "within {n} working days",
    "first thing {wd}", "{yyyy}-{mm}-{dd}", "{wds} {dd}/{mm} AM", "{wd} {d}{th} {mon}, before noon", "today pm",
    "{d} {mons} between {hh}:00 and {hh2}:00", "{wd} {h}:30{ampm}", "end of next week", "{wds} after {h}pm",
    "{mon} {d}, {yyyy}", "{wdl} a.m.", "by {h}{ampm} {wdl}", "the {d}{th}", "{wd} or {wd2}", "asap pls",
    "{wd} {d} {mon} from {hh}:00", "{d}/{m} morning", "this afternoon", "Wed/Thu next week", "{wdl} eve",
)
# fmt: on
# fmt: off
DATE_PATTERNS_LOCAL: dict[str, tuple[str, ...]] = {
    "de": (
        "{wdx}, {d}.{m}.", "bis {wdx} {hh} Uhr", "nächste Woche {wdx}", "morgen Vormittag", "KW {kw}",
        "zwischen {hh} und {hh2} Uhr", "{d}.{m}.{yyyy} vormittags", "{wdx} ab {hh}:00", "{d}. {monx}", "sofort",
        "bis spätestens {d}.{m}.",
    ),
    "fr": (
        "{wdx} matin", "{wdx} {d} {monx} avant {hh}h", "demain après-midi", "le {d}/{m} entre {hh}h et {hh2}h",
        "dès que possible", "{wdx} après {hh}h", "semaine prochaine", "le {d} {monx}", "{wdx} {d}/{m} {hh}h-{hh2}h",
    ),
    "nl": (
        "morgen tussen {h} en {h2}", "{wdx} {d} {monx}", "{wdx}ochtend", "volgende week {wdx}", "z.s.m.",
        "{wdx} na {hh}:00", "uiterlijk {wdx}",
    ),
}
# fmt: on
# fmt: off
HOURS_PATTERNS: tuple[str, ...] = (
    "Mon-Fri {h}am-{h2}pm", "Mon\u2013Fri {hh}:00\u2013{hh2}:00", "weekdays {h}-{h2}",
    "{h}am to {h2}pm Monday to Friday", "Mon-Sat {h}:30am-{h2}pm", "Tue-Fri {hh}.00-{hh2}.00",
)
# fmt: on
# fmt: off
ORDER_DATE_LABELS: tuple[str, ...] = (
    "Order date:", "Date:", "Ordered:", "Date of order:", "Issued:", "Printed:", "Created:", "Doc date:",
)
# fmt: on

# fmt: off
REF_LABELS: tuple[str, ...] = (
    "PO {c}", "PO: {c}", "PO #{c}", "P.O. No. {c}", "Order No. {c}", "Order #{c}", "order ref {c}", "our ref: {c}",
    "Delivery note {c}", "DN no. {c}", "Consignment no. {c}", "Order: {c}", "PO number {c}", "Purchase order {c}",
    "Ref: {c}", "Order number: {c}", "Delivery ref {c}", "Sales order {c}", "Customer PO: {c}", "order {c}",
    "Delivery No.: {c}", "Ord. {c}", "po {c}", "Order ref. {c}", "Consignment {c}", "ref {c}", "Order no {c}",
    "PO# {c}", "Ref. {c}", "order no. {c}", "Your order {c}",
)
# fmt: on
REF_LABELS_LOCAL: dict[str, tuple[str, ...]] = {
    "de": ("Bestellnr. {c}", "Auftrag {c}", "Lieferschein-Nr. {c}", "Bestellnummer: {c}", "Auftragsnr.: {c}"),
    "fr": ("N° de commande {c}", "Commande {c}", "Bon de livraison n° {c}", "Réf. commande : {c}"),
    "nl": ("ordernummer {c}", "Bestelnr. {c}", "Pakbon {c}"),
}
# fmt: off
REF_CODES: tuple[str, ...] = (
    "dddd-dd", "ddddd", "DN-ddddd", "PO-AA-dddd", "AAA-dddd", "AAA/dddd", "45dddddddd", "SO-dddd", "WOddddd",
    "AA-ddddd-A", "dd-ddd-AAA", "ORD-dddddd", "Ddddddd", "ddddddd", "AAdddd", "dddd/dd", "AA-dddd",
)
# fmt: on
# fmt: off
DISTRACTOR_NUMBERS: tuple[str, ...] = (
    "Invoice INV-#####", "Invoice no. ######", "Quote Q-####", "Quotation ref ####", "Account no. #####",
    "Customer no. #####", "VAT GB#########", "Inv. ######", "Quote ref QTE-####", "Acct ######", "Pro-forma PF-####",
    "Credit note CN-####", "Tax invoice ######", "Supplier no. ####",
)
# fmt: on
DISTRACTOR_NUMBERS_LOCAL: dict[str, tuple[str, ...]] = {
    "de": ("Rechnung Nr. ######", "Kundennr. #####", "Angebot AN-####", "USt-IdNr. DE#########"),
    "fr": ("Facture n° ######", "Devis D-####", "N° client #####", "SIRET ### ### ### #####"),
    "nl": ("Factuur ######", "Offerte OF-####", "Klantnr. #####", "KvK ########"),
}

# fmt: off
INSTRUCTIONS_EN: tuple[str, ...] = (
    "leave with reception", "tail-lift required", "tail-lift required, gate code {code}", "use the rear entrance",
    "deliver to the loading bay at the back", "ring the bell at the side gate", "no deliveries before {h}am",
    "please call {name} on {phone} 30 min before arrival", "call {name} on arrival", "ask for {name} at goods in",
    "Forklift on site", "no forklift on site, hand-ball only", "Pallet truck needed",
    "Park on the street, not the yard", "site has narrow access, 7.5t vehicle max", "Deliver to Dock {n}",
    "leave in the porch if no answer", "do not leave unattended", "signature required",
    "Goods in via Gate {n}, report to security", "Please phone {name} {phone} if running late", "Keep refrigerated",
    "Fragile - do not stack", "Stack max 2 high", "Please bring the delivery to the 2nd floor, lift available",
    "Use the service lift", "reversing into the yard is not allowed", "Call ahead, the gate is locked",
    "drop at the kitchen door", "Enter via gate {n}, vehicles over {n2} m cannot turn in the yard",
    "Goods to the back door please, not the shop front", "please text {phone} when 10 min away",
    "unload on the street, the yard is too tight", "Hazardous goods - ADR driver only",
    "Contact {name} ({phone}) for access", "Deliver to the site cabin, not the show home",
    "key code {code} on the door", "Buzz flat {n} and we'll come down", "pallets must be shrink-wrapped",
    "Please remove old pallets", "No access for articulated lorries", "Park in bay {n} and report to reception",
    "Put it in the cold store", "Book a slot with the warehouse first", "driver must wear hi-vis and boots",
    "deliver round the back by the bins",
)
# fmt: on
# fmt: off
INSTRUCTIONS_LOCAL: dict[str, tuple[str, ...]] = {
    "de": (
        "Anlieferung über Tor {n}", "Hebebühne erforderlich", "bitte vorher anrufen", "bei {name} abgeben",
        "Zufahrt über den Hinterhof", "Stapler vor Ort", "nicht stapeln", "Anmeldung beim Pförtner",
    ),
    "fr": (
        "livrer par l'entrée arrière", "hayon obligatoire", "appeler {name} au {phone} avant de venir",
        "sonner à l'interphone", "déposer à l'accueil", "ne pas gerber", "accès par le portail {n}",
    ),
    "nl": (
        "graag achterom leveren", "laadklep nodig", "bel {name} op {phone} bij aankomst", "afgeven bij de receptie",
        "niet stapelen", "via poort {n}",
    ),
}
# fmt: on
# fmt: off
QUOTED_REPLIES: tuple[str, ...] = (
    "Thanks for your order, we can deliver next week. Please confirm the address and any access details.",
    "Hi, just checking whether you still need the delivery we discussed. We have stock of everything.",
    "Our driver has a slot free this week if you can send the details over.",
    "Please find our updated price list attached. Let me know what you'd like to order.",
    "We've had a couple of missed deliveries to your site lately, so please add any access notes.",
    "Thanks for your call earlier. Send me the list and I'll get it booked in.",
)
# fmt: on
# fmt: off
DISCLAIMERS: tuple[str, ...] = (
    "This e-mail and any attachments are confidential and intended solely for the addressee. If you have received "
    "it in error, please notify the sender and delete it.",
    "Please consider the environment before printing this e-mail.",
    "Registered in England and Wales. Registered office as above. Company no. 0######.",
    "Our standard terms and conditions of sale apply to all orders.", "Sent from my iPhone",
    "Sent from Outlook for Android",
)
# fmt: on
# fmt: off
FORM_FOOTERS: tuple[str, ...] = (
    "Received in good condition: ________________  Signature: ______________  Date: ________",
    "Goods remain the property of the supplier until paid in full.", "Page 1 of 1",
    "Please check goods on receipt. Shortages or damage must be reported within 48 hours.",
    "Print name: ______________   Sign: ______________",
    "Driver signature ____________  Customer signature ____________", "E&OE",
    "No. of packages: {n}   Total weight: {w} kg",
)
FORM_FOOTERS_LOCAL: dict[str, tuple[str, ...]] = {  # synth-17: in the site's language, under a form's last line
    "de": ("Seite 1 von 1", "Ware erhalten: ____________  Unterschrift: ____________", "Es gelten unsere AGB."),
    "fr": ("Page 1 sur 1", "Reçu en bon état : ____________  Signature : ____________"),
    "nl": ("Blad 1 van 1", "Handtekening ontvanger: ____________"),
    "es": ("Página 1 de 1", "Firma del receptor: ____________"),
    "it": ("Pagina 1 di 1", "Firma per ricevuta: ____________"),
    "pt": ("Página 1 de 1", "Recebido por: ____________"),
    "pl": ("Strona 1 z 1", "Podpis odbiorcy: ____________"),
    "sv": ("Sida 1 av 1", "Mottagarens signatur: ____________"),
    "da": ("Side 1 af 1", "Modtaget af: ____________"),
    "no": ("Side 1 av 1", "Mottatt av: ____________"),
}
# fmt: on
# fmt: off
FILLER_EN: tuple[str, ...] = (
    "Thanks again for sorting this so quickly.", "Hope you had a good weekend.", "Sorry for the short notice.",
    "Let me know if anything is out of stock.", "The last delivery was spot on, thank you.",
    "We're doing a stock take on Thursday, so the timing matters.", "Any problems, just shout.",
    "As discussed on the phone this morning.", "Following on from our call, here is what we need.",
    "Hope all is well with you.", "We've had a busy week here with the refit.", "Prices as per the agreed list.",
    "Apologies for the delay in confirming.", "Please confirm once it's booked in.",
    "The previous order arrived with one box damaged, so please wrap well.",
    "We open a new site next month, so more orders to come.", "Can you also send the updated price list?",
)
# fmt: on


def fill(p: Picker, pattern: str, lang: str = "en") -> str:
    """``pattern`` with its date and time placeholders filled in."""
    h = p.between(6, 11)
    hh = p.between(6, 15)
    d = p.between(1, 28)
    th = "th" if d % 10 not in (1, 2, 3) or d in (11, 12, 13) else ("st", "nd", "rd")[d % 10 - 1]
    wdx = p.any(WEEKDAYS_LOCAL.get(lang, WEEKDAYS))
    monx = p.any(MONTHS_LOCAL.get(lang, MONTHS))
    values = {
        "wd": p.any(WEEKDAYS),
        "wd2": p.any(WEEKDAYS),
        "wds": p.any(WD_SHORT),
        "wdl": p.any(WEEKDAYS).lower(),
        "mon": p.any(MONTHS),
        "mons": p.any(MON_SHORT),
        "d": d,
        "dd": f"{d:02d}",
        "th": th,
        "m": p.between(1, 12),
        "mm": f"{p.between(1, 12):02d}",
        "yyyy": p.any((2024, 2025, 2026)),
        "h": h,
        "h2": min(h + p.between(1, 4), 11),
        "hh": hh,
        "hh2": hh + p.between(1, 4),
        "ampm": p.any(("am", "pm", "", "am")),
        "n": p.between(2, 10),
        "kw": p.between(1, 52),
        "wdx": wdx,
        "monx": monx,
    }
    return pattern.format(**values)


def delivery_date(p: Picker, lang: str) -> str:
    if lang in DATE_PATTERNS_LOCAL and p.chance(0.85):
        return fill(p, p.one(DATE_PATTERNS_LOCAL[lang]), lang)
    return fill(p, p.one(DATE_PATTERNS_EN))


def receiving_hours(p: Picker) -> str:
    return fill(p, p.one(HOURS_PATTERNS))


def order_date(p: Picker) -> str:
    pattern = p.any(
        (
            "{dd}/{mm}/{yyyy}",
            "{d} {mon} {yyyy}",
            "{wd}, {d} {mon} {yyyy} {hh}:{mm}",
            "{yyyy}-{mm}-{dd}",
            "{d}.{m}.{yyyy}",
            "{mon} {d}, {yyyy}",
        )
    )
    return fill(p, pattern)


def reference_code(p: Picker) -> str:
    code = p.digits(p.one(REF_CODES))
    return "".join(p.any("ABCDEFGHKLMNPRSTVWX") if c == "A" else c for c in code)


def labelled_reference(p: Picker, lang: str, code: str) -> str:
    labels = REF_LABELS_LOCAL[lang] if lang in REF_LABELS_LOCAL and p.chance(0.6) else REF_LABELS
    return p.one(labels).format(c=code)


def distractor_number(p: Picker, lang: str) -> str:
    pool = DISTRACTOR_NUMBERS_LOCAL[lang] if lang in DISTRACTOR_NUMBERS_LOCAL and p.chance(0.6) else DISTRACTOR_NUMBERS
    return p.digits(p.one(pool), "#")
