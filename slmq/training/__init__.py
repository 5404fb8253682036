"""Training and evaluation: the synthetic note generator, LoRA fine-tuning, the contract's scoring rules and
``slmq eval``. Needs the ``train`` extra for the generator's pools; no producer or worker imports it."""
