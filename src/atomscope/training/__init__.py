"""Training of heat-map networks on simulated micrographs."""

from atomscope.training.dataset import load_shards, random_batch, standardise
from atomscope.training.loop import evaluate, save_checkpoint, load_checkpoint, train
from atomscope.training.metrics import detection_scores

__all__ = [
    "load_shards",
    "random_batch",
    "standardise",
    "train",
    "evaluate",
    "save_checkpoint",
    "load_checkpoint",
    "detection_scores",
]
