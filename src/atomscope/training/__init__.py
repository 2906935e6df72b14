"""Training of heat-map networks on simulated micrographs."""

from atomscope.training.dataset import CropDataset, ShardIndex, augment, index_shards, read_images, standardise
from atomscope.training.files import train_files
from atomscope.training.fit import fit
from atomscope.training.launch import launch, run_job
from atomscope.training.loop import evaluate, train

__all__ = [
    "CropDataset",
    "ShardIndex",
    "augment",
    "evaluate",
    "fit",
    "index_shards",
    "launch",
    "read_images",
    "run_job",
    "standardise",
    "train",
    "train_files",
]
