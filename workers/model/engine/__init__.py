"""The native engine: slmq's own decode loop over the model's forward (see engine.py)."""

from workers.model.engine.engine import NativeEngine
from workers.model.engine.sequence import Sequence

__all__ = ["NativeEngine", "Sequence"]
