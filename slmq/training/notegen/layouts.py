"""Layouts that write a scenario down: e-mails, SMS and chat, one-liners, dispatch forms, tables."""

from collections.abc import Callable

from slmq.training.notegen import access, parts
from slmq.training.notegen.phrases import (
    DISCLAIMERS,
    FILLER_EN,
    FORM_FOOTERS,
    FORM_FOOTERS_LOCAL,
    ORDER_DATE_LABELS,
    QUOTED_REPLIES,
    fill,
    receiving_hours,
)
from slmq.training.notegen.picker import Picker
from slmq.training.notegen.scenario import Scenario
from slmq.training.notegen.table import item_table
from slmq.training.notegen.values import render_address
from slmq.training.notegen.vocab import FIRST_NAMES

# fmt: off
GREETINGS = (
    "Hi {n},", "Hello {n},", "Dear {n},", "Morning {n},", "Hi {n}", "Hey {n},", "Good afternoon {n},",
    "Dear Sir/Madam,", "Hi team,", "Hello,", "Hiya {n},", "Good morning,", "{n},", "Dear {n}",
)
# fmt: on
GREETINGS_LOCAL = {
    "de": ("Hallo {n},", "Guten Tag,", "Liebe Kollegen,", "Moin {n},"),
    "fr": ("Bonjour {n},", "Bonjour,", "Salut {n},"),
    "nl": ("Hoi {n},", "Beste {n},", "Goedemorgen,"),
}
# fmt: off
SIGNOFFS = (
    "Thanks,", "Many thanks,", "Best,", "Kind regards,", "Regards,", "Cheers,", "Thanks!", "Best wishes,",
    "Thank you,", "Ta,", "All the best,", "Speak soon,",
)
# fmt: on
SIGNOFFS_LOCAL = {
    "de": ("Viele Grüße,", "Mit freundlichen Grüßen,", "Danke und Gruß,"),
    "fr": ("Cordialement,", "Merci,", "Bien à vous,"),
    "nl": ("Groetjes,", "Met vriendelijke groet,"),
}
# fmt: off
SUBJECTS = (
    "Delivery request", "Order for next week", "Re: delivery", "Urgent - delivery", "Restock", "New order",
    "Fwd: order", "Top-up order", "Delivery booking", "Please deliver", "Order confirmation", "Re: Re: delivery slot",
    "Request for delivery", "Supplies for the new site", "Monthly order",
)
# fmt: on
# fmt: off
OPENINGS_CUSTOMER = (
    "Could you please send the following", "Please can you deliver the items below", "We'd like to order",
    "Can you arrange delivery of", "Please send over", "We need the following delivered", "Could we get",
    "Please arrange the following delivery", "Quick order from us", "Here's our order for this week",
    "Would you be able to drop off", "Please go ahead with this order",
)
# fmt: on
# fmt: off
TITLES = (
    "DELIVERY NOTE", "Delivery Note", "DISPATCH NOTE", "Delivery instruction", "PACKING LIST", "GOODS DESPATCH",
    "Delivery Order", "", "DELIVERY DOCKET", "Despatch advice", "Consignment note", "Delivery request",
)
# fmt: on
TITLES_LOCAL = {
    "de": ("Lieferschein", "LIEFERSCHEIN", "Versandauftrag"),
    "fr": ("Bon de livraison", "BON DE LIVRAISON"),
    "nl": ("Pakbon", "Afleverbon", "PAKBON"),
}
# fmt: off
OPENINGS_LOCAL = {
    "fr": ("Merci de nous livrer", "Pourriez-vous livrer", "Voici notre commande", "Nous avons besoin de"),
    "de": ("Bitte liefern Sie", "Wir benötigen", "Anbei unsere Bestellung", "Bitte folgende Ware liefern"),
    "nl": ("Graag leveren", "Kunnen jullie leveren", "Hierbij onze bestelling", "Wij hebben nodig"),
}
ONELINERS_LOCAL = {
    "fr": ("Merci de livrer {i} à {t}", "Livraison de {i} chez {t}", "Pouvez-vous livrer {i} à {t}"),
    "de": ("Bitte {i} an {t} liefern", "Lieferung: {i} an {t}", "Bitte {i} liefern an {t}"),
    "nl": ("Graag {i} leveren aan {t}", "Levering {i} bij {t}", "Kunnen jullie {i} leveren bij {t}"),
}
NO_ITEM_OPENINGS = (
    "Please book a delivery to the address below.", "Delivery details below:", "The order we discussed goes to:",
    "Same order as last time, to:", "Please deliver the usual to:",
)  # fmt: skip
REF_SENTENCES = ("{r}.", "Please go ahead with {r}.", "This is for {r}.", "Re {r}:", "({r})", "{r} -",
                 "Please put {r} on the paperwork.", "Our {r} is attached.", "{r} refers.")  # fmt: skip
INLINE_OPENINGS = (
    "Could you send the following to {t}", "Please deliver to {t}", "Can you get this out to {t}",
    "Please arrange delivery to {t}", "Next drop is for {t}", "We need these at {t}", "Delivery address is {t}",
    "Please ship to {t}", "This one goes to {t}", "Kindly deliver the below to {t}",
)
# fmt: on
# fmt: off
OPENINGS_DISPATCH = (
    "Please arrange delivery of the following to our customer", "New delivery to book in, details below",
    "Can you pick this up from us and deliver to", "Please collect from our warehouse and deliver to",
    "Booking a delivery for a customer of ours", "Another drop for you this week",
)
# fmt: on
OFFICE_LABELS = ("Office:", "Tel:", "Switchboard:", "Main line:", "T:", "Direct:", "Fax:", "Office tel.")
# fmt: off
ME_PHRASES = (
    "If you have any questions, ring me on {p}.", "You can reach me on {p}.", "Call me on {p} if needed.",
    "My mobile is {p}.", "Any issues, call me: {p}.",
)
# The signer's own number left to the signature (synth-19): the body points at it, the signature writes it.
MY_NUMBER_PHRASES = (
    "If you have any questions, ring my mobile.", "You can reach me on my mobile.",
    "Call me if needed, my number is below.", "Any issues, give me a ring.",
    "Best to phone my mobile, the office line is not always staffed.", "Please phone me on arrival.",
    "Ring me if you can't find us.",
)
MOBILE_LABELS = ("M", "M:", "M.", "Mob:", "Mob.", "Mobile:", "Mobile", "Cell:", "Cell", "mobile", "Tel. mobile:")
# fmt: on


def _greeting(p: Picker, s: Scenario) -> str:
    pool = GREETINGS_LOCAL[s.lang] if s.lang in GREETINGS_LOCAL and p.chance(0.7) else GREETINGS
    return p.one(pool).format(n=s.supplier_first)


def _signoff(p: Picker, s: Scenario) -> str:
    return p.one(SIGNOFFS_LOCAL[s.lang] if s.lang in SIGNOFFS_LOCAL and p.chance(0.7) else SIGNOFFS)


def _join(blocks: list[str | None], sep: str = "\n\n") -> str:
    return sep.join(block for block in blocks if block)


def _distractor_lines(p: Picker, s: Scenario) -> list[str]:
    lines = list(dict.fromkeys(s.other_numbers))
    if s.order_date:
        lines.append(f"{p.one(ORDER_DATE_LABELS)} {s.order_date}")
    if s.carrier:
        lines.append(f"{p.any(('Carrier:', 'Haulier:', 'Via:', 'Courier:'))} {s.carrier}")
    if s.driver:
        phone = f" {p.any(('', 'mob ', 'tel. ', '- '))}{p.digits(p.any(s.country.phones))}" if p.chance(0.5) else ""
        lines.append(f"{p.any(('Driver:', 'Driver name:', 'Driver -'))} {s.driver}{phone}")
    return lines


def email(p: Picker, s: Scenario) -> str:
    """An e-mail from the customer (signer may be the contact) or from the supplier's dispatch desk."""
    refs = parts.reference_texts(p, s)
    customer = p.chance(0.65)
    subject = p.one(SUBJECTS)
    if refs and p.chance(0.5):
        subject = f"{subject} - {refs.pop(0)}" if p.chance(0.5) else f"{refs.pop(0)}"
    header = f"Subject: {subject}"
    if s.order_date and p.chance(0.5):
        header = f"Sent: {s.order_date}\n{header}" if p.chance(0.5) else f"{header}\nDate: {s.order_date}"
        s.order_date = None
    opening = p.one(OPENINGS_CUSTOMER if customer else OPENINGS_DISPATCH)
    if s.lang in OPENINGS_LOCAL and p.chance(0.7):
        opening = p.one(OPENINGS_LOCAL[s.lang])
    long = p.chance(0.07)  # a chatty e-mail with a quoted thread and a disclaimer
    filler = " ".join(p.sample(FILLER_EN, p.weighted(((0, 5), (1, 4), (2, 2), (3, 1), (5, 0.4))))) or None
    if long:
        sentences = p.sample(FILLER_EN, p.between(4, 7))
        filler = " ".join(sentences[:2]) + "\n\n" + " ".join(sentences[2:])
    inline_address = p.chance(0.3)
    if inline_address:
        target = parts.consignee_block(p, s, False)
        body_head = p.one(INLINE_OPENINGS).format(t=target) + (":" if s.items else ".")
    else:
        label = parts.consignee_label(p, s) if p.chance(0.5) else None
        body_head = f"{opening}:" if s.items else p.one(NO_ITEM_OPENINGS)
        block = parts.consignee_block(p, s, True)
        body_head = _join([body_head, f"{label}\n{block}" if label else block])
    if refs:
        sentence = p.one(REF_SENTENCES).format(r=refs.pop(0))
        body_head = f"{sentence} {body_head}" if p.chance(0.5) else f"{body_head}\n{sentence}"
    items = parts.item_list(p, s) if s.items else None
    date = parts.date_text(p, s, False)
    early_date = date if p.chance(0.25) else None  # said in the opening paragraph, before the address
    tail = " ".join(x for x in (None if early_date else date, parts.instructions_text(p, s, False)) if x)
    contact = parts.contact_text(p, s)
    signer = s.sender_person
    signature = [_signoff(p, s), signer]
    if p.chance(0.6):
        signature.append(s.title)
    unwritten = not (s.consignee_person or s.contact_in_instructions or s.contact_name_written)
    if customer and s.contact_phone and contact and unwritten and p.chance(0.7 if s.contact_name is None else 0.25):
        # "Ring me on ..." makes the signer the contact: the gold name is the signature's (synth-17: now and then
        # the first name alone, as people sign to a supplier they know)
        mobile = f"{p.any(MOBILE_LABELS)} {s.contact_phone}" if p.chance(0.4) else None  # in the signature
        contact = p.one(MY_NUMBER_PHRASES) if mobile else p.one(ME_PHRASES).format(p=s.contact_phone)
        world = s.sender_country.world
        if (world is None or world.name_order.startswith("{first}")) and p.chance(0.5):
            signer = signature[1] = signer.split()[0]
        s.contact_name = signer
        s.tags.append("signer_is_contact")
    else:
        mobile = None
    if customer and p.chance(0.5):
        office = f"{p.any(OFFICE_LABELS)} {s.sender_phone}"
        if mobile:  # one line or two, the office's number first or second ("T ... | M ...")
            pair = [office, mobile] if p.chance(0.6) else [mobile, office]
            office, mobile = p.any((" | ", "  ", " / ", "\n")).join(pair), None
            s.tags.append("signature_mobile")
        signature.append(office)
        s.tags.append("distractor")
    elif not customer:
        signature += [s.sender, render_address(p, s.sender_address, s.sender_country, p.chance(0.5))]
        signature.append(f"{p.any(OFFICE_LABELS)} {s.sender_phone}")
        s.tags.append("distractor")
    if mobile:
        signature.append(mobile)
        s.tags.append("signature_mobile")
    billing = parts.billing_block(p, s)
    billing_text = f"{p.any(parts.BILLING_LABELS)} {billing}" if billing else None
    extra = _distractor_lines(p, s)
    if tail and contact and p.chance(0.4):  # one paragraph for date, instructions and contact
        tail, contact = f"{tail} {contact if contact[-1] in '.!?' else contact + '.'}", None
    if early_date:
        filler = f"{filler} {early_date}" if filler else early_date
    body = _join(
        [
            header,
            _greeting(p, s),
            filler,
            body_head,
            items,
            tail or None,
            contact,
            billing_text,
            "\n".join(extra) or None,
            "\n".join(signature),
            _quoted(p, s) if long or p.chance(0.22) else None,
            p.digits(p.one(DISCLAIMERS), "#") if long or p.chance(0.2) else None,
        ]
    )
    return body


def _quoted(p: Picker, s: Scenario) -> str:
    """An earlier message from the supplier, quoted below the signature (its phone is a distractor)."""
    stamp = fill(p, p.any(("On {wds}, {d} {mons} {yyyy} at {hh}:{mm}", "On {dd}/{mm}/{yyyy} {hh}:{mm}")))
    lines = [f"{stamp}, {s.supplier_first} wrote:", *p.one(QUOTED_REPLIES).split(". "), s.supplier_first]
    if p.chance(0.6):
        lines.append(f"{p.any(OFFICE_LABELS)} {p.digits(p.any(s.sender_country.phones))}")
    return "\n".join(f"> {line}" for line in lines)


# fmt: off
SMS_VERBS = (
    "pls send", "can u drop", "need", "pls deliver", "could you bring", "send", "Can we get",
    "any chance you can deliver", "hi, pls send", "Morning! pls send", "can you do", "we need",
)  # fmt: skip
# fmt: on
# fmt: off
SMS_HEADS = (
    "{v} {i} to {t}", "{v} {i} to {t}", "can the {i} for {c} go to {a}", "{i} for {c} pls, {a}",
    "order for {c} ({a}): {i}", "{v} {i} over to {c} at {a}", "for {c}, {a}: {i}",
)  # fmt: skip
# fmt: on


def sms(p: Picker, s: Scenario) -> str:
    """A short text message, or a few chat messages, in informal language."""
    refs = parts.reference_texts(p, s)
    items = parts.item_phrase(p, s)
    head = p.one(SMS_HEADS) if items and s.consignee else "{v} {i} to {t}"
    if not items:
        head = "{v} the usual order to {t}"
    fields = {"v": p.any(SMS_VERBS), "i": items}
    if "{t}" in head:
        fields["t"] = parts.consignee_block(p, s, False)
    else:
        fields["c"], fields["a"] = s.consignee or "", parts.address_text(p, s, False)
    bits = [head.format(**fields)]
    if s.delivery_date:
        bits.append(s.delivery_date if not s.date_is_hours else f"we're open {s.delivery_date}")
    if s.instructions:
        bits.append(s.instructions)
    bits.extend(refs)
    if s.contact_name or s.contact_phone:
        contact = parts.contact_text(p, s)
        if contact and s.contact_name and s.contact_phone and p.chance(0.5) and not s.contact_in_instructions:
            contact = f"- {s.contact_name} {s.contact_phone}"
        if contact:
            bits.append(contact)
    s.tags.append("sms")
    if p.chance(0.2) and len(bits) > 2:  # a chat: each bit a message of its own
        writer, hour, minute = p.one(FIRST_NAMES["en"]), p.between(7, 18), p.between(0, 50)
        return "\n".join(f"[{hour:02d}:{minute + n:02d}] {writer}: {bit}" for n, bit in enumerate(bits))
    joiner = p.any((", ", ". ", " - "))
    text = bits[0]
    for bit in bits[1:]:
        text += (" " if joiner == ". " and text.endswith(".") else joiner) + bit
    text += "" if text[-1] in ".!?" else "."
    if p.chance(0.25):
        text += p.any((" thx", " Thanks!", " cheers", " ta", " thx \U0001f44d", " Thank you", " 🙏"))
    if p.chance(0.3):
        text = f"[{p.between(6, 19):02d}:{p.between(0, 59):02d}] {p.one(FIRST_NAMES['en'])}: {text}"
    return text


def oneliner(p: Picker, s: Scenario) -> str:
    items = parts.item_phrase(p, s)
    target = parts.consignee_block(p, s, False)
    frame = p.one(ONELINERS_LOCAL[s.lang]) if s.lang in ONELINERS_LOCAL and p.chance(0.8) else "{i} to {t}"
    head = frame.format(i=items, t=target) if items else f"Delivery to {target}"
    bits = [head, s.delivery_date, s.instructions, *parts.reference_texts(p, s), parts.contact_text(p, s)]
    s.tags.append("oneliner")
    text = ", ".join(b for b in bits if b)
    return text if text.endswith(".") else text + "."


def form(p: Picker, s: Scenario, table: bool = False) -> str:
    """A dispatch form of "Label: value" lines, its blocks in varied order; items as a list or a table."""
    title = p.any(TITLES_LOCAL[s.lang] if s.lang in TITLES_LOCAL and p.chance(0.6) else TITLES)
    refs = parts.reference_texts(p, s)
    header = title
    if refs and p.chance(0.5):
        header = f"{title} {refs.pop(0)}".strip() if p.chance(0.6) else f"{title}\n{refs.pop(0)}".strip()
    blocks: list[str] = []
    label = parts.consignee_label(p, s)
    multiline = p.chance(0.5)
    columns = _side_by_side(p, s, label) if s.billing and s.consignee and p.chance(0.35) else None
    if columns:
        blocks.append(columns)
        s.billing = None  # written in the left or right column already
    elif s.consignee:
        if p.chance(0.5):
            blocks.append(f"{label} {s.consignee}\n{p.any(('Address:', ''))} {parts.address_text(p, s, multiline)}")
        else:
            blocks.append(
                f"{label}\n{parts.consignee_block(p, s, True)}"
                if multiline
                else f"{label} {parts.consignee_block(p, s, False)}"
            )
    else:
        blocks.append(f"{label} {parts.address_text(p, s, False)}")
    letterhead = None
    if p.chance(0.25):  # the sender's letterhead, unlabelled, above the title
        phone = f"{p.any(OFFICE_LABELS)} {s.sender_phone}" if p.chance(0.6) else None
        letterhead = "\n".join(x for x in (parts.sender_block(p, s, p.chance(0.5)), phone) if x)
        s.tags.append("distractor")
    elif p.chance(0.4):
        blocks.append(f"{p.any(parts.SENDER_LABELS)} {parts.sender_block(p, s, False)}")
        s.tags.append("distractor")
    if s.delivery_date and not s.date_is_hours and p.chance(0.1):
        blocks.append(f"{p.any(('Goods-in hours:', 'Opening hours:', 'Receiving:'))} {receiving_hours(p)}")
    billing = parts.billing_block(p, s)
    if billing:
        blocks.append(f"{p.any(parts.BILLING_LABELS)} {billing}")
    contact = parts.contact_text(p, s)
    if contact:
        blocks.append(contact)
    date = parts.date_text(p, s, True)
    if date:
        blocks.append(date)
    blocks.extend(refs)
    blocks.extend(_distractor_lines(p, s))
    instr = parts.instructions_text(p, s, True)
    items = None
    if s.items:
        label = p.any(("Items:", "Goods:", "Contents:", "Qty / item:", "Qty:", "Order:"))
        if table:
            items = item_table(p, s)
        elif p.chance(0.3):
            items = f"{label} " + p.any(("; ", " / ", ", ", " | ")).join(parts.item_lines(p, s))
        else:
            items = f"{label}\n" + parts.item_list(p, s)
    p.rng.shuffle(blocks)
    site = access.language(s.country)  # synth-17: half the footers in the site's language where it has them
    local = site in FORM_FOOTERS_LOCAL and p.chance(0.5)
    pattern = p.any(FORM_FOOTERS_LOCAL[site]) if local else p.one(FORM_FOOTERS)
    footer = pattern.format(n=p.between(1, 30), w=p.between(20, 900)) if p.chance(0.3) else None
    ordered = [letterhead, header, *blocks[:2], items, *blocks[2:], instr, footer]
    if table:
        s.tags.append("table")
    s.tags.append("form")
    return "\n".join(x for x in ordered if x).strip()


def _side_by_side(p: Picker, s: Scenario, label: str) -> str | None:
    """Billing and delivery addresses in two columns, as printed forms have them; None if a part would break."""
    assert s.billing is not None and s.consignee is not None
    ship = [label, *parts.consignee_block(p, s, True).split("\n")]
    values = [v for v in (s.address.street, s.address.city, s.address.postcode, s.address.region) if v]
    if not all(any(v in line for line in ship) for v in values):
        s.contact_name_written = False  # the block is dropped, and any "FAO <contact>" in it
        return None
    bill_name = p.any((s.consignee, f"{s.consignee} - Accounts", "Accounts Payable"))
    bill = [p.any(parts.BILLING_LABELS), bill_name, *render_address(p, s.billing, s.country, True).split("\n")]
    left, right = (bill, ship) if p.chance(0.6) else (ship, bill)
    width = max(len(line) for line in left) + p.between(3, 12)
    rows = max(len(left), len(right))
    left, right = left + [""] * (rows - len(left)), right + [""] * (rows - len(right))
    s.tags.append("columns")
    return "\n".join((a.ljust(width) + b).rstrip() for a, b in zip(left, right, strict=True))


LAYOUTS: tuple[tuple[str, Callable[[Picker, Scenario], str], float], ...] = (
    ("email", email, 3.0),
    ("sms", sms, 2.0),
    ("oneliner", oneliner, 1.0),
    ("form", form, 2.5),
    ("table", lambda p, s: form(p, s, table=True), 1.5),
)
