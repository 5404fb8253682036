# One image for every slmq service: workers, Flower and the metrics exporter (the worker and monitor
# extras). CPU torch by default (PyPI's Linux torch is the multi-GB CUDA build); for a CUDA image:
#   docker compose --profile gpu build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
FROM python:3.11-slim

ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
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
RUN pip install --index-url "${TORCH_INDEX_URL}" "${TORCH_SPEC}"
COPY pyproject.toml README.md celeryconfig.py fleet.toml ./
COPY slmq ./slmq
COPY producer ./producer
COPY workers ./workers
RUN pip install ".[worker,monitor]"
# What fleet.toml points at, beside it (its paths resolve relative to /app/fleet.toml): the LoRA adapters.
COPY adapters ./adapters

# Not root: the model cache volume is created from /data/models, owned by this user.
RUN useradd --create-home --uid 10001 slmq && mkdir -p /data/models && chown -R slmq:slmq /data
USER slmq
VOLUME ["/data/models"]

ENTRYPOINT ["slmq"]
CMD ["--help"]
