"""The worker side: Celery app, start-up, model runner and task types. Import torch only after pinning."""
