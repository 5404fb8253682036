"""A country as the note generator writes it: its names, towns with regions and postcode patterns, streets, phones.

Postcode patterns use ``d`` for a digit and ``@`` for a letter; a town's pattern starts with its real prefix.
"""

from dataclasses import dataclass

from slmq.training.notegen.world import World


@dataclass(frozen=True)
class Country:
    code: str
    names: tuple[str, ...]  # how a note may write the country
    towns: tuple[tuple[str, str | None, str], ...]  # (town, region as written or None, postcode pattern)
    streets: tuple[str, ...]
    phones: tuple[str, ...]  # phone patterns, local and international
    language: str
    world: World | None = (
        None  # a country drawn from a faker locale (slmq.training.notegen.world): its pools and format
    )
