"""The span formulation's pure half: gold records to spans of their notes, and scored spans back to records."""

from pathlib import Path

import pytest

from slmq.training import notegen
from slmq.training.scoring import Report, score_record
from slmq.training.tagging import gold_spans, occurrences
from workers.model.tagging import KINDS, Scored, Span, parse_quantity, record_from_spans, snap, span_text


def _texts(text: str, spans: list[Span]) -> list[str]:
    return [span_text(text, span) for span in spans]


def test_occurrences_collapse_whitespace_and_prefer_whole_words() -> None:
    text = "Leither Road\nLeith   Docks, Leith"
    assert [text[s.start : s.end] for s in occurrences(text, "Leith Docks")] == ["Leith   Docks"]
    assert [s.start for s in occurrences(text, "Leith")] == [13, 28]  # not the "Leith" of "Leither"
    assert _texts("浙江省杭州市西湖区", occurrences("浙江省杭州市西湖区", "杭州市")) == [
        "杭州市"
    ]  # no spaces, no word edges


@pytest.mark.parametrize(
    ("written", "number"),
    [("12", 12), ("twelve", 12), ("Twenty-four", 24), ("1,500", 1500), ("1.250", 1250), ("2,5", 2.5), ("20.2", 20.2),
     ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("fifty-four", 54), ("two hundred and ten", 210), ("x", None),
     ("1.2.3", None)],
)  # fmt: skip
def test_parse_quantity(written: str, number: float | None) -> None:
    assert parse_quantity(written) == number


def test_the_delivery_address_is_the_one_whose_parts_stand_together() -> None:
    text = (
        "From: Nordwind GmbH, Speicherstadt 3, 20457 Hamburg\n"
        "Please deliver to Kaffee Rösterei, Elbchaussee 12, 22763 Hamburg, Germany"
    )
    address = {"street": "Elbchaussee 12", "city": "Hamburg", "postcode": "22763", "region": None, "country": "Germany"}
    gold = {"consignee": "Kaffee Rösterei", "address": address, "items": []}
    spans = gold_spans(text, gold)
    assert spans["address.city"] == [Span(text.rindex("Hamburg"), text.rindex("Hamburg") + len("Hamburg"))]
    assert "address.region" not in spans


def test_items_take_the_quantity_and_unit_written_with_them() -> None:
    text = "Goods: tape x9 packs + A3 paper x95 reams + 2 boxes of envelopes C5"
    gold = {"items": [{"quantity": 9, "unit": "packs", "description": "tape"},
                      {"quantity": 95, "unit": "reams", "description": "A3 paper"},
                      {"quantity": 2, "unit": "boxes", "description": "envelopes C5"}]}  # fmt: skip
    spans = gold_spans(text, gold)
    assert _texts(text, spans["item.quantity"]) == ["9", "95", "2"]
    assert _texts(text, spans["item.unit"]) == ["packs", "reams", "boxes"]
    record, confidence = record_from_spans(
        text, {kind: [Scored(span, 0.9) for span in found] for kind, found in spans.items()}, {}
    )
    assert record["items"] == gold["items"]
    assert confidence["items"] == [0.9, 0.9, 0.9]


def test_a_quantity_between_commas_of_a_csv_line_is_found() -> None:
    text = "OrderNo,Qty,UoM,ItemText\nBK393108,38,EA,folding tables"
    gold = {"items": [{"quantity": 38, "unit": "EA", "description": "folding tables"}]}
    assert _texts(text, gold_spans(text, gold)["item.quantity"]) == ["38"]


def test_measures_written_before_their_goods_pair_in_order() -> None:
    text = "Bring 300 rolls, those are the bin liners, then seven tins, that is the wax."
    gold = {"items": [{"quantity": 300, "unit": "rolls", "description": "bin liners"},
                      {"quantity": 7, "unit": "tins", "description": "wax"}]}  # fmt: skip
    found = {kind: [Scored(span, 1.0) for span in spans] for kind, spans in gold_spans(text, gold).items()}
    assert record_from_spans(text, found, {})[0]["items"] == gold["items"]


def test_the_best_scored_span_wins_and_an_absent_field_keeps_its_confidence() -> None:
    text = "To: Acme Ltd. From: Widget Co."
    found = {"consignee": [Scored(Span(4, 12), 0.8), Scored(Span(20, 29), 0.3)]}
    record, confidence = record_from_spans(text, found, {"reference": 0.97})
    assert record["consignee"] == "Acme Ltd"  # the trailing full stop is the token's, kept; scoring drops it
    assert confidence["consignee"] == 0.8
    assert record["reference"] is None and confidence["reference"] == 0.97
    assert record["items"] == [] and record["address"]["city"] is None


def test_gold_spans_make_their_record_again_on_generated_notes() -> None:
    """The formulation loses almost nothing: spans found from the gold give back records that score as the gold."""
    records = list(notegen.generate(200, 3, "train"))
    scores = []
    for record in records:
        found = {
            kind: [Scored(span, 1.0) for span in spans]
            for kind, spans in gold_spans(record["text"], record["gold"]).items()
        }
        scores.append(score_record(record["gold"], record_from_spans(record["text"], found, {})[0]))
    report = Report(scores)
    assert report.micro.f1 is not None and report.micro.f1 >= 0.99
    assert report.exact_rate is not None and report.exact_rate >= 0.95


def test_tags_of_the_second_copy_cover_each_value_whole_and_read_back_as_the_record(tiny_model_dir: Path) -> None:
    """Labels from ``labelled`` as one-hot probabilities give the gold record again through ``spans_of``."""
    import torch
    from transformers import AutoTokenizer

    from slmq.training.tagger import labelled
    from workers.model.tagger import BEGIN, INSIDE, spans_of

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "Deliver 12 pallets of A4 paper to Acme Ltd, 14 Harbour Rd, Leith. Call Jim on 07700  900123. PO 7731-22."
    address = {"street": "14 Harbour Rd", "city": "Leith", "region": None, "postcode": None, "country": None}
    gold = {"consignee": "Acme Ltd", "address": address, "delivery_date": None, "contact_name": "Jim",
            "contact_phone": "07700 900123", "reference": "7731-22", "instructions": None,
            "items": [{"quantity": 12, "unit": "pallets", "description": "A4 paper"}]}  # fmt: skip
    example = labelled(tokenizer, text, gold)
    encoded, labels = example.encoded, example.labels
    assert len(labels) == len(encoded.offsets)
    assert (
        encoded.input_ids[encoded.first : encoded.first + len(encoded.offsets)]
        == encoded.input_ids[len(encoded.input_ids) - len(encoded.offsets) :]
    )
    phone = KINDS.index("contact_phone")
    tagged = [i for i, tags in enumerate(labels) if tags[phone]]
    covered = "".join(text[encoded.offsets[i][0] : encoded.offsets[i][1]] for i in tagged)
    # Two spaces make one a token of its own (as SmolLM2 makes every space between digits): it is inside too.
    assert covered.strip() == "07700  900123"
    assert labels[tagged[0]][phone] == BEGIN and {labels[i][phone] for i in tagged[1:]} == {INSIDE}
    probs = torch.nn.functional.one_hot(torch.tensor(labels), 3).float()
    found, absent = spans_of(text, encoded, probs)
    record, _ = record_from_spans(text, found, absent)
    assert score_record(gold, record).exact


@pytest.mark.parametrize(
    ("text", "cut", "whole"),
    [("4 toilet rolls", "ilet rolls", "toilet rolls"), ("ref 42-823-CXB.", "42-823-", "42-823-CXB"),
     ("6 cartons juice", "cart", "cartons"), ("浙江省杭州市西湖区", "杭州市", "杭州市"),
     ("Hamburg, DE", "Hamburg", "Hamburg")],
)  # fmt: skip
def test_a_span_cut_inside_a_word_grows_to_the_whole_word(text: str, cut: str, whole: str) -> None:
    start = text.index(cut)
    grown = snap(text, Span(start, start + len(cut)))
    assert text[grown.start : grown.end] == whole


@pytest.mark.parametrize(
    ("text", "cut", "measure", "whole"),
    [("cut 12m of cable", "12", True, "12"), ("cut 12m of cable", "m", True, "m"),
     ("cut 12m of cable", "1", True, "12"), ("18.8t building sand", "t", True, "t"),
     ("cut 12m of cable", "12", False, "12m"),
     ("4 toilet rolls", "ilet", True, "toilet")],
)  # fmt: skip
def test_a_quantity_or_unit_does_not_grow_across_digits_and_letters(
    text: str, cut: str, measure: bool, whole: str
) -> None:
    start = text.index(cut)
    grown = snap(text, Span(start, start + len(cut)), measure)
    assert text[grown.start : grown.end] == whole


@pytest.mark.parametrize(
    ("written", "value"),
    [("(+62 21 7468114", "+62 21 7468114"), ("(312) 555-0162", "(312) 555-0162"), ("07700 900123)", "07700 900123"),
     ("red roses (50 stems)", "red roses (50 stems)"), ("( 12 Mill Lane,", "12 Mill Lane")],
)  # fmt: skip
def test_a_bracket_that_opens_or_closes_nothing_in_a_span_is_not_its_value(written: str, value: str) -> None:
    assert span_text(written, Span(0, len(written))) == value


def test_a_span_grows_from_its_surest_token_and_a_value_split_by_spaces_is_joined(tiny_model_dir: Path) -> None:
    """Hysteresis: "Johansson" at 0.2 joins "Sanna" at 0.9, a city run that never reaches IN_SPAN is no span,
    and a phone the head split at a begin is one value again (JOINED); a city split the same way is not. A kind's
    absence is as sure as its likeliest token is not in a span."""
    import torch
    from transformers import AutoTokenizer

    from workers.model.tagger import BEGIN, EXTEND, IN_SPAN, INSIDE, OUTSIDE, encode, spans_of

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "Contact Sanna Johansson 07095 466 808 at Leith or Kirkcaldy Dunfermline"
    encoded = encode(tokenizer, text)
    probs = torch.zeros(len(encoded.offsets), len(KINDS), 3)
    probs[..., OUTSIDE] = 1.0

    def tag(kind: str, value: str, p_in: float, begin: bool) -> None:
        for n, i in enumerate(_tokens(encoded.offsets, text, value)):
            probs[i, KINDS.index(kind), OUTSIDE] = 1 - p_in
            probs[i, KINDS.index(kind), BEGIN if begin and n == 0 else INSIDE] = p_in

    tag("contact_name", "Sanna", 0.9, True)
    tag("contact_name", " Johansson", 0.2, False)  # with the space before it, as training tags spaces inside
    tag("contact_phone", "07095", 0.95, True)
    tag("contact_phone", "466 808", 0.9, True)  # begins a run of its own
    tag("address.city", "Leith", IN_SPAN - 0.1, True)  # a doubtful run alone: no span
    tag("address.city", "Kirkcaldy", 0.9, True)
    tag("address.city", "Dunfermline", 0.9, True)
    tag("reference", " at", 0.6, False)  # inside, never begun, below IN_SPAN: no span, yet not surely absent
    assert EXTEND <= 0.2 < IN_SPAN and probs[..., BEGIN].max() > 0.5
    found, absent = spans_of(text, encoded, probs)
    assert [span_text(text, s.span) for s in found["contact_name"]] == ["Sanna Johansson"]
    first, last = (len(_tokens(encoded.offsets, text, value)) for value in ("Sanna", " Johansson"))
    assert found["contact_name"][0].score == pytest.approx((0.9 * first + 0.2 * last) / (first + last), abs=1e-6)
    assert [span_text(text, s.span) for s in found["contact_phone"]] == ["07095 466 808"]
    assert [span_text(text, s.span) for s in found["address.city"]] == ["Kirkcaldy", "Dunfermline"]
    # absent: one minus the likeliest token's P(in a span), begun or not
    assert found["reference"] == [] and absent["reference"] == pytest.approx(0.4)
    assert absent["address.region"] == 1.0 and absent["contact_phone"] == pytest.approx(0.05)


def _tokens(offsets: list[tuple[int, int]], text: str, value: str) -> list[int]:
    """The tokens that overlap ``value``'s first occurrence in ``text``."""
    start = text.index(value)
    return [i for i, (s, e) in enumerate(offsets) if s < start + len(value) and start < e]
