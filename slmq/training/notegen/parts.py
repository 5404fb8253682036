"""Phrases that several layouts share: the delivery address block, items, contact, date, reference lines."""

from slmq.training.notegen import phrases
from slmq.training.notegen.items import render_item
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.scenario import Scenario
from slmq.training.notegen.values import render_address

# fmt: off
CONTACT_BOTH = (
    "Contact: {n}, {p}", "Contact: {n} {p}", "Attn: {n}, {p}", "Site contact: {n} \u2013 {p}",
    "On-site contact {n} ({p})", "Contact {n} on {p}", "{n} will be on site, {p}.", "Receiver: {n} / {p}",
    "Any questions, {n} on {p}.", "Contact person: {n}, tel. {p}", "{n} is our contact there ({p}).",
    # more labels than a layout family has: the tagger learnt the label words, not what a contact is (it missed
    # nearly every name after the held-out "Receiver:"; docs/evaluation.md)
    "Ask for {n} - {p}", "Call {n} on arrival: {p}", "Point of contact {n}, {p}", "Goods in: {n}, tel {p}",
    "Site manager {n} / mob {p}", "POC: {n} {p}", "Phone {n} when 30 min away: {p}", "{n} ({p}) will sign for it.",
    "Contact on the day: {n} - {p}", "FAO {n}, tel. {p}", "Warehouse: {n} on {p}",
)
# fmt: on
# fmt: off
CONTACT_NAME = (
    "Contact: {n}", "Attn: {n}", "Site contact: {n}", "Contact person: {n}", "{n} will be on site.", "Receiver: {n}",
    "Ask for {n}", "Person to contact: {n}", "Point of contact: {n}", "Goods in: {n}", "Site manager: {n}",
    "Onsite: {n}", "Speak to {n} on arrival.", "Warehouse contact: {n}", "For the attention of {n}",
    "Signing for it: {n}", "Contact on the day: {n}", "Deliver FAO {n}", "POC: {n}", "Reception: ask for {n}",
)
# fmt: on
# fmt: off
CONTACT_PHONE = (
    "Tel: {p}", "Phone: {p}", "Mob: {p}", "Contact no. {p}", "Site phone {p}", "Contact tel: {p}",
    "On-site number: {p}",
)
# fmt: on
CONTACT_LOCAL = {
    "de": ("Ansprechpartner: {n}, Tel. {p}", "Kontakt: {n} {p}", "bitte {n} anrufen: {p}"),
    "fr": ("Contact : {n}, {p}", "Contact sur place : {n} au {p}", "appeler {n} au {p}"),
    "nl": ("Contactpersoon: {n}, {p}", "Contact: {n} ({p})", "bel {n} op {p}"),
}
# fmt: off
DATE_LINES = (
    "Delivery: {d}", "Delivery date: {d}", "Requested delivery: {d}", "Deliver: {d}", "Required: {d}", "ETA: {d}",
    "Req. delivery: {d}", "Delivery window: {d}", "Needed: {d}", "Wanted: {d}",
)
# fmt: on
# fmt: off
DATE_SENTENCES = (
    "Delivery {d} please.", "We need it {d}.", "Can it come {d}?", "Please deliver {d}.", "Timing: {d}.",
    "Ideally {d}.", "Needed {d} if possible.", "Delivery {d} would be ideal.", "Could it arrive {d}?",
    "Please aim for {d}.", "Please deliver {d}, as nobody is in before then.", "{D} is fine for delivery.",
    "{D} would suit us best.", "{D} please.", "Delivery {d} please, we close early that day.",
    "We're only open {d}, so please come then.", "{D} if you can, otherwise let me know.",
)
# fmt: on
# fmt: off
HOURS_SENTENCES = (
    "Goods in: {d}", "We receive deliveries {d}.", "Receiving hours {d}.", "Opening hours: {d}",
    "Goods-in hours are {d}.", "Someone is in {d}.",
)
# fmt: on
DATE_LOCAL = {
    "de": ("Liefertermin: {d}", "Anlieferung {d}", "Lieferung bitte {d}."),
    "fr": ("Livraison : {d}", "Date de livraison : {d}", "Merci de livrer {d}."),
    "nl": ("Levering: {d}", "Leverdatum: {d}", "Graag leveren {d}."),
}
# fmt: off
INSTR_LINES = (
    "Instructions: {i}", "Notes: {i}", "Note: {i}", "Delivery notes: {i}", "Special instructions: {i}",
    "Remarks: {i}", "Access: {i}", "Comments: {i}", "NB: {i}",
)
# fmt: on
INSTR_LOCAL = {
    "de": ("Hinweis: {i}", "Bemerkung: {i}"),
    "fr": ("Remarque : {i}", "Consignes : {i}"),
    "nl": ("Opmerking: {i}", "Let op: {i}"),
}
# fmt: off
CONSIGNEE_LABELS = (
    "Deliver to:", "Ship to:", "Consignee:", "Delivery address:", "Del. to:", "Recipient:", "Deliver To:", "SHIP TO:",
    "Delivery to:", "Customer:", "To:",
)
# fmt: on
CONSIGNEE_LOCAL = {
    "de": ("Empfänger:", "Lieferanschrift:", "Lieferadresse:"),
    "fr": ("Destinataire :", "Livrer à :", "Adresse de livraison :"),
    "nl": ("Afleveradres:", "Ontvanger:", "Leveren aan:"),
}
SENDER_LABELS = ("From:", "Ship from:", "Shipper:", "Sender:", "Supplier:", "Dispatched by:", "Collection from:")
BILLING_LABELS = ("Bill to:", "Invoice to:", "Invoice address:", "Billing address:", "Invoices to:")


def address_text(p: Picker, s: Scenario, multiline: bool) -> str:
    return render_address(p, s.address, s.country, multiline)


# A department or desk of the consignee, written under or after its name: not part of the consignee (contract rule 3
# names the receiving company; real-v1's labelling leaves departments out).
# fmt: off
DEPARTMENTS = (
    "Goods In", "Goods Receiving", "Receiving Dept.", "Facilities Management", "Stores", "Warehouse",
    "Purchasing Dept.", "Procurement", "Maintenance", "Front Desk", "IT Department", "Events Team",
    "Exhibitions Department", "Site Office", "Logistics", "Kitchen", "Estates Department", "Finance Office",
    "Wareneingang", "Einkauf", "Abteilung Logistik", "Service des achats", "Service logistique", "Réception",
    "Magazzino", "Ufficio acquisti", "Almacén", "Departamento de compras", "Dział zaopatrzenia", "Afdeling inkoop",
    "Inköpsavdelningen", "Expedição", "Departamento de Logística", "Ufficio tecnico",
)
DEPARTMENT_FORMS = ("{d}", "{d}", "Dept. {d}", "c/o {d}", "Attn: {d}", "{d} department")
# fmt: on


def consignee_block(p: Picker, s: Scenario, multiline: bool) -> str:
    addr = address_text(p, s, multiline)
    if s.consignee is None:
        return addr
    consignee = s.consignee
    if not s.consignee_person and p.chance(0.1):
        department = p.any(DEPARTMENT_FORMS).format(d=p.one(DEPARTMENTS))
        if department not in consignee:
            consignee += ("\n" if multiline else p.any((", ", " - ", " / "))) + department
    if s.contact_name and not s.consignee_person and not s.contact_in_instructions and p.chance(0.12):
        consignee += p.any((", FAO ", ", Attn: ", " - attn ", "\nFAO: ", "\nATTN ")).replace(
            "\n", "\n" if multiline else ", "
        )
        consignee += s.contact_name
        s.contact_name_written = True
    elif s.contact_name and not s.consignee_person and not s.contact_in_instructions and p.chance(0.05):
        # The person first, then the company: the company is still the consignee (rule 3).
        consignee = f"{s.contact_name}\n{consignee}" if multiline else f"{s.contact_name}, {consignee}"
        s.contact_name_written = True
    return f"{consignee}\n{addr}" if multiline else f"{consignee}, {addr}"


def contact_text(p: Picker, s: Scenario) -> str | None:
    """The contact as its own phrase, or None when the instructions already carry it or there is none."""
    name, number = s.contact_name, s.contact_phone
    if s.contact_name_written:
        name = None
    if s.contact_in_instructions:
        name = None if name and s.instructions and name in s.instructions else name
        number = None if number and s.instructions and number in s.instructions else number
    if name and number:
        pool = CONTACT_LOCAL[s.lang] if s.lang in CONTACT_LOCAL and p.chance(0.7) else CONTACT_BOTH
        return p.one(pool).format(n=name, p=number)
    if name:
        return p.one(CONTACT_NAME).format(n=name)
    if number:
        return p.one(CONTACT_PHONE).format(p=number)
    return None


def date_text(p: Picker, s: Scenario, line: bool) -> str | None:
    if s.delivery_date is None:
        return None
    if s.date_is_hours:
        text = p.one(HOURS_SENTENCES).format(d=s.delivery_date)
    elif s.lang in DATE_LOCAL and p.chance(0.7):
        text = p.one(DATE_LOCAL[s.lang]).format(d=s.delivery_date)
    else:
        pattern = p.one(DATE_LINES if line else DATE_SENTENCES)
        if "{D}" in pattern:  # the date opens the sentence: the gold span is the capitalised date
            s.delivery_date = s.delivery_date[0].upper() + s.delivery_date[1:]
        text = pattern.format(d=s.delivery_date, D=s.delivery_date)
    return text if line or text[-1] in ".!?" else text + "."


def instructions_text(p: Picker, s: Scenario, line: bool) -> str | None:
    if s.instructions is None:
        return None
    if line and p.chance(0.75):
        pool = INSTR_LOCAL[s.lang] if s.lang in INSTR_LOCAL and p.chance(0.6) else INSTR_LINES
        return p.one(pool).format(i=s.instructions)
    s.instructions = s.instructions[0].upper() + s.instructions[1:]  # the gold span is the capitalised sentence
    return s.instructions if s.instructions[-1] in ".!?" else s.instructions + "."


def reference_texts(p: Picker, s: Scenario) -> list[str]:
    return [phrases.labelled_reference(p, s.lang, code) for code in s.references]


def consignee_label(p: Picker, s: Scenario) -> str:
    if s.lang in CONSIGNEE_LOCAL and p.chance(0.7):
        return p.one(CONSIGNEE_LOCAL[s.lang])
    return p.one(CONSIGNEE_LABELS)


def item_lines(p: Picker, s: Scenario) -> list[str]:
    return [render_item(p, item, s.lang) for item in s.items]


def item_list(p: Picker, s: Scenario) -> str:
    """Items as a list block: bullets, numbers or plain lines."""
    bullet = p.any(("- ", "* ", "• ", "", "{n}. ", "{n}) "))
    return "\n".join(bullet.format(n=i) + line for i, line in enumerate(item_lines(p, s), start=1))


def item_phrase(p: Picker, s: Scenario) -> str:
    """Items in running text: "2 pallets of cement, 3 x brake pads and 10 kg sugar"."""
    lines = item_lines(p, s)
    if len(lines) <= 1:
        return "".join(lines)
    joiner = p.any((", ", "; ", " + ", ", "))
    last = p.any((" and ", ", ", " & ", " + ")) if joiner == ", " else joiner
    return joiner.join(lines[:-1]) + last + lines[-1]


def sender_block(p: Picker, s: Scenario, multiline: bool) -> str:
    addr = render_address(p, s.sender_address, s.sender_country, multiline)
    return f"{s.sender}\n{addr}" if multiline else f"{s.sender}, {addr}"


def billing_block(p: Picker, s: Scenario) -> str | None:
    if s.billing is None:
        return None
    return render_address(p, s.billing, s.country, False)
