"""Keep message bodies out of worker logs: Celery logs a rejected message's body, which may quote a note."""

import logging

from celery.worker.consumer import consumer

# Celery's templates for messages it rejects, and how many leading arguments carry no body or headers.
BODY_TEMPLATES = {
    consumer.UNKNOWN_FORMAT: 0,
    consumer.UNKNOWN_TASK_ERROR: 1,
    consumer.INVALID_TASK_ERROR: 1,
    consumer.MESSAGE_DECODE_ERROR: 3,
}
REDACTED = "<redacted: slmq keeps message bodies out of logs>"


class RedactBodies(logging.Filter):
    """Replaces the body and headers in Celery's rejected-message log lines; the rest of the line stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        kept = BODY_TEMPLATES.get(record.msg) if isinstance(record.msg, str) else None
        if kept is not None and isinstance(record.args, tuple):
            record.args = record.args[:kept] + (REDACTED,) * (len(record.args) - kept)
        return True


def redact_message_bodies() -> None:
    """Install the filter on the logger of Celery's consumer."""
    logging.getLogger(consumer.__name__).addFilter(RedactBodies())
