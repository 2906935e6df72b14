"""Training of heat-map networks on simulated micrographs."""

from atomscope.training.dataset import load_shards, random_batch, standardise
from atomscope.training.loop import evaluate, train
from atomscope.training.metrics import detection_scores

__all__ = [
    "load_shards",
    "random_batch",
    "standardise",
    "train",
    "evaluate",
    "detection_scores",
]
