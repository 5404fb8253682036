"""The model side of a worker: device pinning, model sources, the runner and its engine, constrained and copy
decoding, confidence, and the task types. Imports no celery, kombu or redis; torch only in the modules that
need it (``workers.model.device`` must be importable before torch)."""
