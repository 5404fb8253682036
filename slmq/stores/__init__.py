"""The Redis side producers, workers and the CLI share: the Celery app, raw connections, job records, dead
letters, leases, fleet metrics and status, and the embedded broker. Imports no torch."""
