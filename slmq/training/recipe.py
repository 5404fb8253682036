"""What decides an adapter (``FinetuneConfig``, written to its recipe.json) and what training it reported.

No torch here: the command line reads the defaults from these fields, so ``slmq --help`` stays light.
"""

from dataclasses import dataclass, field

from slmq.fleet import Quantization


@dataclass(frozen=True)
class FinetuneConfig:
    """Everything that decides the adapter; written to recipe.json beside it."""

    task_type: str
    steps: int = 300
    batch_size: int = 8
    learning_rate: float = 5e-4
    warmup_steps: int = 10
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.0  # LoRA dropout keeps a copy of every adapted layer's input: memory the CPU lacks
    max_tokens: int = 768
    seed: int = 7
    save_every: int = 50
    quantization: Quantization = "none"  # the base weights trained over: as the worker serves them


@dataclass
class TrainingReport:
    steps: int = 0
    examples_seen: int = 0
    skipped_too_long: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
