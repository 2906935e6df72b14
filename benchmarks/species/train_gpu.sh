#!/usr/bin/env bash
# Train the shipped species models (tmd_stem, graphene_dopant_stem) on a GPU machine without
# Snakemake or abTEM, from the repository root, with src on PYTHONPATH:
#   benchmarks/species/train_gpu.sh SHARDS OUT
# SHARDS/<model>/results/{simulations,structures}/train/ are the workflow's shards; OUT/<model>/ gets
# model.safetensors, metrics.parquet (learning curve) and train.log. CUDA with bfloat16 mixed
# precision when present. SECONDS_PER_MODEL (default 140) sizes the steps from a calibration
# run's steps/s; STEPS fixes them (e.g. STEPS=20 for a check on a CPU). MODELS (default: both)
# names the models to train, e.g. MODELS=graphene_dopant_stem.
set -euo pipefail
shards=${1:?give the shard folder}
out=${2:?give the output folder}
SECONDS_PER_MODEL=${SECONDS_PER_MODEL:-140}
MODELS=${MODELS:-tmd_stem graphene_dopant_stem}
if [[ -n "${STEPS:-}" ]]; then
    exec python3 benchmarks/species/train_gpu.py "$shards" "$out" --steps "$STEPS" --models $MODELS
fi
exec python3 benchmarks/species/train_gpu.py "$shards" "$out" --seconds "$SECONDS_PER_MODEL" --models $MODELS
