"""slmq: a fleet of small language models behind Celery queues.

The package's own modules are the contract both sides share, and import no redis, celery or torch:
``constants``, ``errors``, ``settings``, ``fleet`` and ``pipeline`` (the fleet file), ``schemas`` (requests and
results of every task type) and ``batchfile`` (job input and output files). Beside them, each its own layer
(import-linter contracts in pyproject.toml):

- ``slmq.stores``: the Celery app and the Redis-side stores producers, workers and the CLI share;
- ``slmq.training``: the note generator, fine-tuning, scoring and evaluation (the ``train`` extra), never
  imported by a producer or a worker;
- ``slmq.cli``: the ``slmq`` command, one module per command group.
"""

__version__ = "0.1.0"
