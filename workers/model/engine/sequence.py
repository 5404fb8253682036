"""One prompt's progress through the engine."""

from dataclasses import dataclass, field

from workers.model.grammar import RowConstraint


@dataclass(eq=False)
class Sequence:
    """A prompt, what has been written for it, and where it is in the cache.

    ``pending`` is the last token chosen, not yet fed to the model: the next step's first input.
    """

    prompt: list[int]
    max_new_tokens: int
    constraint: RowConstraint | None = None
    output: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)  # of each output token, under the row's mask
    raw_logprobs: list[float] = field(default_factory=list)  # unmasked, where the whole vocabulary was scored
    length: int = 0  # positions of this sequence in its cache row
    pending: int | None = None
    finished: bool = False

    @property
    def room(self) -> int:
        """How many more tokens it may write."""
        return self.max_new_tokens - len(self.output)
