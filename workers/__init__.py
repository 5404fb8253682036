"""The worker side. This package's own modules are the Celery process (app, batcher, delivery guard, watchdog,
liveness, meter, recorder, transport, start-up); ``workers.model`` holds the model: device pinning, sources,
the runner and its engine, constrained and copy decoding, and the task types. Import torch only after pinning."""
