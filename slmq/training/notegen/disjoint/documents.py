"""Disjoint layouts printed by systems: a carrier's booking, a pick list, an export declaration, a help-desk ticket."""

from slmq.training.notegen.disjoint import common
from slmq.training.notegen.disjoint.facts import Facts, date
from slmq.training.notegen.picker import Picker

BOOKING_FOOTERS = (
    "Changes to this booking must reach us 24 h before collection.",
    "Waiting time beyond 30 minutes is charged per quarter hour.",
    "Carriage is subject to the carrier's standard conditions.",
)
TICKET_QUEUES = ("Outbound deliveries", "Transport planning", "Customer logistics", "Distribution desk")


def _refs(f: Facts) -> list[str]:
    return list(f.references)


def booking(p: Picker, f: Facts) -> str:
    """A carrier's booking confirmation: collection, drop, window, freight lines and driver notes."""
    refs = _refs(f)
    out = [f"{f.carrier.upper()} - BOOKING CONFIRMED"]
    if refs:
        out.append(f"Booking ref: {refs.pop(0)}")
    out.append(f"Booked by: {f.sender_person}, {f.sender} on {f.issued}")
    out.append(f"Pickup point: {f.sender}\n    {common.one_line(p, f.sender_address, f.sender_country)}")
    drop = common.one_line(p, f.address, f.country)
    out.append(f"Drop point: {f.consignee}\n    {drop}" if f.consignee else f"Drop point: {drop}")
    when = date(p, f, p.any(("written", "iso")))
    if when:
        out.append(f"Drop window: {when}")
    if f.contact_name or f.contact_phone:
        out.append("Person at drop: " + ", ".join(x for x in (f.contact_name, f.contact_phone) if x))
    if f.lines:
        out.append("Freight:")
        out += [f"  {common.digits(line)} {common.word(line)} | {line.description}" for line in f.lines]
    if f.instructions:
        out.append(f"Driver notes: {f.instructions}")
    if refs:
        out.append(f"Shipper's ref. {refs.pop(0)}")
    out.append(p.any(BOOKING_FOOTERS))
    return "\n".join(line.replace("  | ", " | ") for line in out)


def picklist(p: Picker, f: Facts) -> str:
    """A warehouse pick-list header and its lines in fixed columns."""
    refs = _refs(f)
    out = [f"PICK LIST   wave {p.between(1, 40)}   printed {f.issued}"]
    head = f"Sales doc. {refs.pop(0)}   " if refs else ""
    out.append(f"{head}Ship-to party: {f.consignee or '-'}")
    out.append("Dest. addr.: " + common.one_line(p, f.address, f.country))
    when = date(p, f, "written")
    if when:
        out.append(f"Req. dlv: {when}")
    if f.contact_name or f.contact_phone:
        out.append("Goods-in person: " + " tel ".join(x for x in (f.contact_name, f.contact_phone) if x))
    if f.lines:
        out.append("LN   QTY      UOM   MATERIAL")
        for number, line in enumerate(f.lines, 1):
            quantity, unit = common.digits(line), common.uom(line)
            out.append(f"{number * 10:<4} {quantity:<8} {unit:<5} {line.description}")
    if f.instructions:
        out.append(f"Picking remark: {f.instructions}")
    if refs:
        out.append(f"Linked doc. {refs.pop(0)}")
    out.append(f"Picked by ______   Checked by ______   Carrier {f.carrier}")
    return "\n".join(out)


def customs(p: Picker, f: Facts) -> str:
    """A customs-style declaration summary in numbered boxes."""
    refs = _refs(f)
    out = ["EXPORT DECLARATION - SUMMARY SHEET"]
    out.append(f"Box 2 Exporter: {f.sender}, {common.one_line(p, f.sender_address, f.sender_country)}")
    lines = common.address_lines(f.address, f.country)
    if f.consignee:
        lines.insert(0, f.consignee)
    out.append("Box 8 Consignee (name, address):\n      " + "\n      ".join(lines))
    if refs:
        out.append(f"Box 7 Commercial ref.: {refs.pop(0)}")
    if f.invoice:
        out.append(f"Box 22 Invoice number {f.invoice}, dated {f.issued}")
    if f.lines:
        out.append("Box 31 Packages and description of goods:")
        for mark, line in zip("abcdefghij", f.lines, strict=False):
            unit = common.word(line)
            out.append(f"      ({mark}) {common.digits(line)} {unit + ' ' if unit else ''}- {line.description}")
    notes = []
    when = date(p, f, "written")
    if when:
        notes.append(f"Delivery due {when}.")
    if f.instructions:
        notes.append(f"Handling: {f.instructions}.")
    if f.contact_name or f.contact_phone:
        notes.append("Person to notify: " + ", ".join(x for x in (f.contact_name, f.contact_phone) if x) + ".")
    if refs:
        notes.append(f"See also {refs.pop(0)}.")
    if notes:
        out.append("Box 44 Additional information: " + " ".join(notes))
    out.append(f"Box 54 Declarant: {f.sender_person}, tel. {f.sender_phone}")
    return "\n".join(out)


def ticket(p: Picker, f: Facts) -> str:
    """A help-desk ticket: requester, a free-text description and custom fields with dotted leaders."""
    refs = _refs(f)
    out = [f"[{p.any(TICKET_QUEUES)}] New request from the customer portal"]
    out.append(f"Requester ....... {f.sender_person} ({f.sender})")
    out.append(f"Priority ........ {p.any(('P2', 'P3', 'P4'))}   Opened {f.issued}")
    out.append(f"Summary ......... Please schedule a drop for {f.consignee or 'our site'}")
    text = [f"Hello dispatch team, we need a drop at {common.one_line(p, f.address, f.country)}."]
    if f.lines:
        goods = "; ".join(
            f"{line.description} - qty {common.digits(line)} {common.word(line)}".rstrip() for line in f.lines
        )
        text.append(f"The load: {goods}.")
    when = date(p, f)
    if when:
        text.append(f"We would like it {when}." if f.date_style == "spoken" else f"Wanted for {when}.")
    out.append("Description:\n" + " ".join(text))
    fields = []
    if f.contact_name:
        fields.append(f"Site person ..... {f.contact_name}")
    if f.contact_phone:
        fields.append(f"Site phone ...... {f.contact_phone}")
    if refs:
        fields.append(f"Order in question {refs.pop(0)}")
    if f.instructions:
        fields.append(f"Access notes .... {f.instructions}")
    if refs:
        fields.append(f"Related order ... {refs.pop(0)}")
    if fields:
        out.append("Custom fields:\n" + "\n".join(fields))
    return "\n".join(out)
