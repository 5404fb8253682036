"""The generator's countries drawn from faker, GeoNames, pycountry and phonenumbers: many, stable, spanned."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from slmq.training.notegen.picker import Picker
from slmq.training.notegen.places import country_choices, world_countries
from slmq.training.notegen.values import address, person, render_address

POOLS = """
import hashlib, json
from slmq.training.notegen import world
pools = {}
for key in (*world.LOCALES, *world.EAST_ASIA, *world.BORROWED):
    w = world.world(key)
    pools[key] = hashlib.sha256(repr(w).encode()).hexdigest()
print(json.dumps(pools))
"""


def pools_under(hash_seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", POOLS], env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def test_the_pools_are_the_same_whatever_the_hash_seed() -> None:
    # Given each locale's pools drawn in two processes with different string hashing (it_IT's towns come from a set)
    first, second = pools_under("1"), pools_under("2")
    # Then every locale drew the same values: a data version makes the same notes on every machine and run
    assert len(first) >= 50
    assert [key for key in first if first[key] != second[key]] == []


def test_the_generator_writes_more_than_fifty_countries() -> None:
    codes = {country.code for country, _ in country_choices()} - {"UK"}  # the hand-written UK is GB's twin
    assert len(codes) >= 50, sorted(codes)
    assert all(weight > 0 for _, weight in country_choices())


@pytest.mark.parametrize("multiline", [True, False])
def test_every_part_of_a_drawn_address_is_a_span_of_the_address_as_written(multiline: bool) -> None:
    # Given 25 addresses of every country drawn from a locale, written one line or several
    written: Counter[str] = Counter()
    for country in world_countries():
        for index in range(25):
            p = Picker(f"world-test:{country.world and country.world.locale}:{index}", "train")
            parts = address(p, country)
            text = " ".join(render_address(p, parts, country, multiline).split())
            # Then each part the gold record would hold is written verbatim, whitespace collapsed
            for name in ("street", "city", "region", "postcode", "country"):
                value = getattr(parts, name)
                if value is not None:
                    assert " ".join(value.split()) in text, (country.code, name, value, text)
                    written[name] += 1
    # And every part is written somewhere, the optional ones not always
    assert written["city"] == 25 * len(world_countries())
    assert 0 < written["region"] < written["city"] and 0 < written["country"] < written["city"]


@pytest.mark.parametrize("missing", ["faker", "babel"])
def test_without_the_train_extra_synth_says_what_to_install_in_one_line(tmp_path: Path, missing: str) -> None:
    # Given a Python where a library of the train extra cannot be imported (the worker and producer extras lack it)
    script = (
        f"import sys; sys.modules['{missing}'] = None; from slmq.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    out = tmp_path / "notes.jsonl"
    out.write_text('{"id": "kept"}\n')
    command = [sys.executable, "-c", script, "synth", "delivery_note", "--count", "2", "-o", str(out)]
    # When slmq synth runs there
    done = subprocess.run(command, capture_output=True, text=True)
    # Then it fails with one line that names the extra, no traceback, and the file given with -o is as it was
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "pip install -e '.[train]'" in done.stderr, done.stderr
    assert out.read_text() == '{"id": "kept"}\n' and list(tmp_path.iterdir()) == [out]


def test_an_east_asian_address_runs_from_region_to_street_and_its_ward_is_no_part() -> None:
    # Given addresses of Japan, China and Korea in their own scripts, drawn with extras (train and held-out notes)
    countries = [c for c in world_countries() if c.world is not None and c.world.wards_inside]
    assert sorted(c.code for c in countries) == ["CN", "JP", "KR"]
    wards = 0
    for country in countries:
        for index in range(40):
            p = Picker(f"east-asia:{country.code}:{index}", "train")
            parts = address(p, country, extras=True)
            text = render_address(p, parts, country, multiline=False)
            order = [parts.region, parts.city, parts.district, parts.street]
            written = [value for value in order if value]
            # Then the parts stand in that order, with nothing between them but a space in Korean
            sep = " " if country.code == "KR" else ""
            assert sep.join(written) in text, (country.code, text)
            # And a ward is written only between the city and the street, in no field
            if parts.district:
                wards += 1
                assert parts.district not in (parts.city or "") + (parts.street or "")
            assert parts.postcode is None or parts.postcode in text
    assert wards > 10
    # And a full name is written family name first, in the country's script
    japan = next(c for c in countries if c.code == "JP")
    p = Picker("east-asia:names", "train")
    names = [person(p, japan, "full") for _ in range(20)]
    assert any(name.split()[0] in japan.world.surnames for name in names if not name.isascii())  # type: ignore[union-attr]
