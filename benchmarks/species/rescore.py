"""Re-score a trained model's final validation with the current evaluation and write the scores
into its spec (the weights are unchanged), on the images its training held out.

    python benchmarks/species/rescore.py MODEL SHARDS N_SHARDS [--validation 48]

SHARDS/results/{simulations,structures}/train/ hold the shards 0..N_SHARDS-1 the model was
trained on; the last ``--validation`` images are its validation images (``ShardIndex.split``).
Used for tmd_stem, whose H200 run validated with one true site per chalcogen *atom* (two per S2
column, so S2 recall could not pass 0.5) before ``labels.projected_columns`` fixed it.
"""

from __future__ import annotations

import argparse
import dataclasses

import pandas as pd
import torch

from atomscope.io import read_model, read_table, write_model
from atomscope.nets import network_from_spec
from atomscope.training import index_shards, read_images
from atomscope.training.fit import _validation_truth
from atomscope.training.loop import evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("shards")
    parser.add_argument("n", type=int)
    parser.add_argument("--validation", type=int, default=48)
    args = parser.parse_args()
    root = f"{args.shards}/results"
    index = index_shards([f"{root}/simulations/train/{i}.h5" for i in range(args.n)])
    sites = pd.concat([read_table(f"{root}/structures/train/{i}.parquet") for i in range(args.n)], ignore_index=True)
    models = pd.concat([read_table(f"{root}/structures/train/{i}.models.parquet") for i in range(args.n)], ignore_index=True)
    _, numbers = index.split(args.validation)
    spec, state = read_model(args.model)
    net = network_from_spec(spec, state)
    names = list(index.attrs["target_names"])
    truth = _validation_truth(sites, models, index.model[numbers], index.shape[-2:], index.sampling[numbers], names)
    validation = spec.recipe.training["validation"]
    scores = evaluate(
        net, read_images(index, numbers, spec.normalisation), truth, index.sampling[numbers], target_names=names,
        device=torch.device("cpu"), threshold=validation["threshold"], min_distance=validation["min_distance"],
        match_radius=validation["match_radius"],
    )
    write_model(args.model, state, dataclasses.replace(spec, scores=scores), config={"training": spec.recipe.training})
    print({k: round(v, 3) for k, v in scores.items() if k.endswith("_f1")})


if __name__ == "__main__":
    main()
