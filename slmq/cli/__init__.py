"""The ``slmq`` command (``slmq.cli.main``), one module per command group; heavy modules are imported by the
command that needs them, so ``slmq --help`` and ``slmq submit`` load no torch."""
