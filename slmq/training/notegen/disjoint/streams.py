"""Disjoint layouts that come as streams: a CSV/TSV export, key=value log lines, a chat thread, a voicemail."""

from slmq.training.notegen.disjoint import common
from slmq.training.notegen.disjoint.facts import Facts, Line, date
from slmq.training.notegen.picker import Picker

# One header name per field, several spellings each; a row keeps the facts' order of columns shuffled.
COLUMNS = {
    "ref": ("order_no", "OrderNo", "order_id"),
    "consignee": ("ship_to_name", "DestName", "recv_party"),
    "street": ("dest_street", "DestStreet", "addr_line1"),
    "city": ("dest_city", "DestTown", "addr_town"),
    "region": ("dest_state", "DestRegion", "addr_area"),
    "postcode": ("dest_zip", "DestPostal", "addr_pc"),
    "country": ("dest_country", "DestCountry", "addr_ctry"),
    "date": ("eta", "ReqDate", "due_at"),
    "name": ("site_contact", "OnSiteName", "ask_for"),
    "phone": ("site_phone", "OnSiteTel", "ask_tel"),
    "qty": ("qty", "Qty", "q"),
    "uom": ("uom", "UoM", "pack"),
    "desc": ("sku_desc", "ItemText", "goods_text"),
    "notes": ("handling", "DriverText", "remarks_txt"),
}
CHAT_CHANNELS = ("#dispatch-desk", "#outbound", "#transport-ops", "#yard-team")


def _cell(value: str, sep: str) -> str:
    return f'"{value}"' if sep in value or '"' in value else value


def export(p: Picker, f: Facts) -> str:
    """A CSV, TSV or semicolon export with a header row; one row per goods line, the delivery's fields repeated."""
    sep = p.any((",", "\t", ";"))
    style = p.any((0, 1, 2))
    a = f.address
    shared = {
        "ref": f.references[0] if f.references else None,
        "consignee": f.consignee, "street": a.street, "city": a.city, "region": a.region, "postcode": a.postcode,
        "country": a.country, "date": date(p, f, "iso"), "name": f.contact_name, "phone": f.contact_phone,
        "notes": f.instructions,
    }  # fmt: skip
    keys = [key for key, value in shared.items() if value is not None or p.chance(0.5)]
    p.rng.shuffle(keys)
    columns = keys + (["qty", "uom", "desc"] if f.lines else [])
    rows = []
    lines: list[Line | None] = list(f.lines) or [None]
    for line in lines:
        cells = [shared[key] or "" for key in keys]
        if line:
            cells += [common.digits(line), common.uom(line) if style == 1 else common.word(line), line.description]
        rows.append(sep.join(_cell(cell, sep) for cell in cells))
    header = sep.join(COLUMNS[key][style] for key in columns)
    preamble = f"# exported {f.issued} by {f.sender}" if p.chance(0.5) else None
    return "\n".join(x for x in (preamble, header, *rows) if x)


def _kv(key: str, value: str) -> str:
    return f'{key}="{value}"' if " " in value or "=" in value else f"{key}={value}"


def log(p: Picker, f: Facts) -> str:
    """key=value log lines of a dispatch service; the delivery in one event, the sender in another."""
    a = f.address
    pairs = [
        ("order_ref", f.references[0] if f.references else None), ("ship_to", f.consignee),
        ("dest.street", a.street), ("dest.city", a.city), ("dest.region", a.region), ("dest.postcode", a.postcode),
        ("dest.country", a.country), ("window", date(p, f, "iso")), ("onsite.name", f.contact_name),
        ("onsite.tel", f.contact_phone), ("handling", f.instructions),
    ]  # fmt: skip
    fields = [(k, v) for k, v in pairs if v is not None]
    head, tail = fields[:2], fields[2:]
    p.rng.shuffle(tail)
    for number, line in enumerate(f.lines):
        tail += [(f"line{number}.qty", common.digits(line)), (f"line{number}.text", line.description)]
        unit = common.word(line)
        if unit:
            tail.append((f"line{number}.uom", unit))
    day = f"20{p.between(25, 26)}-{p.between(1, 12):02d}-{p.between(1, 28):02d}"
    stamp = f"{day}T0{p.between(6, 9)}:{p.between(10, 59)}:00Z"
    first = f"{stamp} INFO dispatch.request.created " + " ".join(_kv(k, v) for k, v in head + tail)
    second = f'{stamp} DEBUG dispatch.request.origin shipper="{f.sender}" shipper.tel={f.sender_phone.replace(" ", "")}'
    lines = [first, second] if p.chance(0.7) else [second, first]
    if len(f.references) > 1:
        lines.append(f"{stamp} INFO dispatch.request.linked also_ref={f.references[1]}")
    return "\n".join(lines)


def chat(p: Picker, f: Facts) -> str:
    """A team-chat thread: a question-and-answer exchange about the drop, names above their messages."""
    me, them = f.sender_person, f.colleague
    clock = [p.between(7, 10), p.between(0, 40)]

    def said(who: str, text: str) -> str:
        clock[1] += p.between(0, 3)
        return f"{who}  {clock[0]}:{clock[1]:02d} {'AM' if clock[0] < 12 else 'PM'}\n{text}"

    out = [p.any(CHAT_CHANNELS)]
    out.append(said(me, f"new drop to set up, it's for {f.consignee}" if f.consignee else "new drop to set up"))
    out.append(said(them, "where to?"))
    out.append(said(me, common.one_line(p, f.address, f.country)))
    if f.lines:
        out.append(said(them, "and the load?"))
        parts = []
        for line in f.lines:
            unit = common.word(line)
            parts.append(f"{line.description} \u00d7{common.digits(line)}{' ' + unit if unit else ''}")
        out.append(said(me, " + ".join(parts)))
    when = date(p, f)
    if when:
        out.append(said(them, "when do they want it"))
        out.append(said(me, when))
    if f.instructions:
        out.append(said(me, f"oh and {f.instructions}"))
    told = [x for x in (f.contact_name, f.contact_phone) if x and x not in (f.instructions or "")]
    if told:
        out.append(said(them, "who's there to take it?"))
        out.append(said(me, " on ".join(told)))
    if f.references:
        out.append(said(them, f"booked it under {f.references[0]} 👍"))
        if len(f.references) > 1:
            out.append(said(me, f"their side calls it {f.references[1]}"))
    return "\n\n".join(out)


def voicemail(p: Picker, f: Facts) -> str:
    """A voicemail's automatic transcript: one caller talking through the drop."""
    seconds = p.between(25, 110)
    out = [f"Voicemail from {f.sender_phone} - {seconds // 60}:{seconds % 60:02d} - transcript (automatic)"]
    said = [f"Hi, it's {f.sender_person} at {f.sender}."]
    to = f.consignee or "a customer of ours"
    said.append(f"Ringing about a drop for {to}, that's {common.one_line(p, f.address, f.country)}.")
    if f.lines:
        goods = []
        for line in f.lines:
            unit = common.word(line)
            quantity = common.spoken(line)
            said_line = f"{quantity} {unit}, that's the {line.description}"
            goods.append(said_line if unit else f"{quantity} of the {line.description}")
        said.append("It's " + ", and ".join(goods) + ".")
    when = date(p, f, "spoken")
    if when:
        said.append(f"They'd like it {when}.")
    if f.instructions:
        said.append(f"Tell the driver {f.instructions}.")
    if f.contact_name and f.contact_phone:
        said.append(f"Whoever goes, ask for {f.contact_name}, number's {f.contact_phone}.")
    elif f.contact_name or f.contact_phone:
        who = f"Whoever goes, ask for {f.contact_name}."
        said.append(who if f.contact_name else f"Their number's {f.contact_phone}.")
    if f.references:
        said.append(f"Order number's {' and '.join(f.references)}.")
    said.append("Right, cheers, bye.")
    out.append(" ".join(said))
    return "\n".join(out)
