"""Training of heat-map networks on simulated micrographs."""

from atomscope.training.fit import fit
from atomscope.training.dataset import load_shards, random_batch, standardise
from atomscope.training.loop import evaluate, train

__all__ = [
    "fit",
    "load_shards",
    "random_batch",
    "standardise",
    "train",
    "evaluate",
]
