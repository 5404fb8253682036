"""The disjoint family's own phrasings: dates, instructions, references, quantities and unit codes.

Written apart from ``slmq.training.notegen.phrases`` and ``items``: no pattern here is one of theirs, so a model trained
on the train split has never seen these shapes.
"""

from slmq.training.notegen.picker import Picker

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAYS3 = ("MON", "TUE", "WED", "THU", "FRI", "SAT")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
MON3 = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
ORDINAL_WORDS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
    "twentieth",
)  # fmt: skip

# fmt: off
WRITTEN_DATES: tuple[str, ...] = (  # dates as a document or a system prints them
    "{dd}{MON}{yy} {hh}00-{hh2}00", "{dd}-{Mon}-{yyyy}", "{dd}.{mm}.{yy} {hh}:{mi}", "{yyyy}{mm}{dd} {hh}{mi}",
    "wk {kw}/{yyyy}", "{DAY} {dd}{MON}", "{hh}{mi}hrs {dd}/{mm}", "earliest {hh}:{mi}, latest {hh2}:{mi}",
    "{Mon} {d}{th} not before {hh}:{mi}", "{Day3} {dd}-{mm} {hh}h{mi}", "week {kw}, {Day} preferred",
    "{dd}/{mm}/{yy} AM slot", "{dd}/{mm}/{yy} PM slot", "close of business {Day}",
)
SPOKEN_DATES: tuple[str, ...] = (  # dates as people say them
    "the {ordw} of {Month}", "{Day} the {d}{th}", "{Day} after lunch", "{Day} early, say {h} o'clock",
    "sometime {Day}, not too early", "end of the month", "as soon as you can manage", "{Day} before close",
    "by the weekend", "{Month} the {ordw}", "in the next couple of days", "{Day} or failing that {Day2}",
    "around {h} o'clock {Day}", "no rush, the week after next",
)
ISO_DATES: tuple[str, ...] = (  # dates as machine exports write them
    "{yyyy}-{mm}-{dd}T{hh}:{mi}", "{yyyy}-{mm}-{dd}T{hh}:00/{yyyy}-{mm}-{dd}T{hh2}:00", "{yyyy}{mm}{dd}",
    "{dd}-{Mon}-{yyyy} {hh}:{mi}", "{yyyy}/{mm}/{dd} {hh}:{mi}",
)
# fmt: on

# fmt: off
INSTRUCTIONS: tuple[str, ...] = (
    "driver to report to the weighbridge first", "POD photo required at handover",
    "site shuts {hh}:00-{hh}:45 for lunch, no unloading then", "height barrier {b}m at the entrance",
    "hand pallet jack on site but no forklift driver after {hh}:00", "unload kerbside, the lane is single track",
    "no lift in the building, goods go up by the stairs", "check in at the gatehouse with the booking number",
    "temperature log must travel with the goods", "do not double-stack, the load is top-heavy",
    "reverse in alongside the container", "quiet zone: engine off while unloading",
    "two-person delivery, single items over {kg} kg", "place inside the cage by the fire exit",
    "the buzzer is broken, knock loudly on the shutter", "loose cartons only, no pallets accepted",
    "hi-vis and safety boots past the yellow line", "bring the paperwork to the office upstairs",
    "wait at barrier {n} until waved through", "chilled goods straight into the walk-in",
    "stack on the left of roller door {n}", "school site: no arrivals between {hh}:00 and {hh2}:00",
    "tilt indicators must be intact at handover", "sat-nav goes to the wrong entrance, use the second gate",
)
CONTACT_INSTRUCTIONS: tuple[str, ...] = (
    "speak to {name} at the gatehouse", "ring {name} on {phone} fifteen minutes out",
    "text {phone} with your ETA", "{name} will meet the van at the side door",
    "{name} signs for it, nobody else", "if the shutter is down try {phone}",
)
REFERENCE_SHAPES: tuple[str, ...] = (
    "BKdddddd", "dddd.dddd", "Rdd-dddd-A", "dddddd/AA", "CX-dddd-dddd", "ddd-ddddddd", "SHP/dddd/dd", "AdAd-dddd",
)
INVOICE_SHAPES: tuple[str, ...] = ("INV/dd/dddd", "Fdddddd", "IN-dddd-AA")
# fmt: on

# Packaging codes a warehouse system prints in a UOM column, keyed by the goods pools' English plural.
UOM_CODES = {
    "pallets": "PLT", "boxes": "BX", "cartons": "CTN", "cases": "CS", "packs": "PK", "rolls": "RL", "bags": "BG",
    "sacks": "SK", "drums": "DR", "pcs": "EA", "units": "EA", "bottles": "BT", "crates": "CR", "bundles": "BDL",
    "reels": "RE", "sets": "SET", "pairs": "PR", "trays": "TR", "tins": "TN", "cans": "CN", "sheets": "SH",
    "kegs": "KEG", "coils": "COIL", "bales": "BL", "kg": "KG", "t": "TNE", "tonnes": "TNE", "m": "MTR",
    "metres": "MTR", "l": "LTR", "litres": "LTR",
}  # fmt: skip

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def spoken_number(n: int) -> str:
    """``n`` (1-99) as a person says it: "thirty-two"; larger numbers stay in digits."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    return str(n)


def when(p: Picker, pool: tuple[str, ...]) -> str:
    """A pattern of ``pool`` with its date and time placeholders filled."""
    d = p.between(1, 20)
    hh = p.between(6, 14)
    th = "th" if d % 10 not in (1, 2, 3) or d in (11, 12, 13) else ("st", "nd", "rd")[d % 10 - 1]
    day, day2 = p.rng.sample(DAYS[:5], 2)
    month = p.any(MONTHS)
    return p.any(pool).format(
        d=d, dd=f"{d:02d}", th=th, ordw=ORDINAL_WORDS[d - 1], mm=f"{p.between(1, 12):02d}", yy=p.any(("25", "26")),
        yyyy=p.any(("2025", "2026")), hh=f"{hh:02d}", hh2=f"{hh + p.between(2, 4):02d}", h=p.between(7, 11),
        mi=p.any(("00", "15", "30", "45")), kw=p.between(2, 51), Day=day, Day2=day2, DAY=day.upper(), Day3=day[:3],
        Month=month, Mon=month[:3], MON=p.any(MON3),
    )  # fmt: skip


def instruction(p: Picker, name: str | None, phone: str | None) -> tuple[str, bool]:
    """One instruction span, and whether it names the contact (only when the contact exists)."""
    usable = [i for i in CONTACT_INSTRUCTIONS if ("{name}" not in i or name) and ("{phone}" not in i or phone)]
    pattern = p.any(usable) if usable and p.chance(0.3) else p.any(INSTRUCTIONS)
    hh = p.between(7, 13)
    text = pattern.format(
        name=name, phone=phone, hh=f"{hh:02d}", hh2=f"{hh + 1:02d}", n=p.between(2, 9), kg=p.any((25, 30, 40)),
        b=p.any(("2.1", "2.4", "2.7", "3.0")),
    )  # fmt: skip
    return text, "{name}" in pattern or "{phone}" in pattern


def code(p: Picker, shapes: tuple[str, ...]) -> str:
    """A code of one of ``shapes``: ``d`` a digit, ``A`` a capital letter."""
    return "".join(p.any("BCDFGHJKLMNPQRSTVWXZ") if c == "A" else c for c in p.digits(p.any(shapes)))
