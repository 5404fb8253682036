"""slmq: a fleet of small language models behind Celery queues. The core never imports torch."""

__version__ = "0.1.0"
