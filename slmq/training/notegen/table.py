"""Items as a table: pipes, padded columns or semicolons, columns in varied order, an empty cell for no unit."""

from slmq.training.notegen.picker import Picker
from slmq.training.notegen.scenario import Scenario

HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "q": ("Qty", "QTY", "Quantity", "Qty."),
        "u": ("Unit", "UOM", "Pack", "Unit"),
        "d": ("Item", "Description", "Goods", "Product", "Article"),
    },
    "de": {"q": ("Menge", "Anz."), "u": ("Einheit", "ME"), "d": ("Artikel", "Bezeichnung")},
    "fr": {"q": ("Qté", "Quantité"), "u": ("Unité", "Cond."), "d": ("Article", "Désignation")},
    "nl": {"q": ("Aantal",), "u": ("Eenheid",), "d": ("Artikel", "Omschrijving")},
}
ORDERS = (("d", "q", "u"), ("q", "u", "d"), ("q", "d", "u"), ("d", "u", "q"))


def item_table(p: Picker, s: Scenario) -> str:
    """The items of ``s`` as a table whose cells copy the gold values."""
    lang = s.lang if s.lang in HEADERS and p.chance(0.7) else "en"
    order = p.any(ORDERS)
    numbered = p.chance(0.35)
    header = [p.any(HEADERS[lang][key]) for key in order]
    rows = []
    for item in s.items:
        written = item.written if not item.words else str(item.quantity)
        cells = {"q": written, "u": item.unit or "", "d": item.description}
        rows.append([cells[key] for key in order])
    style = p.any(("pipes", "padded", "padded", "semicolons", "tabs"))
    if numbered:
        header = ["#", *header]
        rows = [[str(i), *row] for i, row in enumerate(rows, start=1)]
    if style == "pipes":
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]
        if p.chance(0.5):
            lines.insert(1, "-+-".join("-" * w for w in widths))
        return "\n".join(lines)
    if style == "semicolons":
        return "\n".join(";".join(r) for r in [header, *rows])
    if style == "tabs":
        return "\n".join("\t".join(r) for r in [header, *rows])
    widths = [max(len(r[i]) for r in [header, *rows]) + p.between(2, 5) for i in range(len(header))]
    return "\n".join(
        "".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
    )
