# One image for every slmq service: workers, Flower and the metrics exporter (the worker and monitor
# extras). CPU torch by default; for a CUDA image pass the torch build you want, e.g.
#   docker compose --profile gpu build --build-arg TORCH_SPEC=torch==2.13.0 --build-arg PIP_INDEX_URL=<index>
FROM python:3.11-slim

ARG TORCH_SPEC=torch==2.13.0
# pip reads PIP_INDEX_URL / PIP_EXTRA_INDEX_URL from the environment; declared here so --build-arg reaches it.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SLMQ_HOME=/data \
    SLMQ_FLEET=/app/fleet.toml

WORKDIR /app
# torch first, in its own layer: it is the largest and changes least.
RUN pip install "${TORCH_SPEC}"
COPY pyproject.toml README.md celeryconfig.py fleet.toml ./
COPY slmq ./slmq
COPY producer ./producer
COPY workers ./workers
RUN pip install ".[worker,monitor]"

# Not root: the model cache volume is created from /data/models, owned by this user.
RUN useradd --create-home --uid 10001 slmq && mkdir -p /data/models && chown -R slmq:slmq /data
USER slmq
VOLUME ["/data/models"]

ENTRYPOINT ["slmq"]
CMD ["--help"]
